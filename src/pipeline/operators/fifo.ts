/** A FIFO with O(1) take (Array#shift is O(n) on long queues). */
export class Fifo {
  #items: unknown[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(v: unknown): void {
    this.#items.push(v);
  }

  take(): unknown {
    const v = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }

  /** Drop everything; returns how many values were dropped. */
  clear(): number {
    const n = this.size;
    this.#items = [];
    this.#head = 0;
    return n;
  }
}
