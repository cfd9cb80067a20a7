/**
 * A byte ring in a SharedArrayBuffer between two threads (tier 1: the host and a guest, or two
 * guests through a pipe): one writer, one reader, no lock. The writer copies bytes in and
 * publishes its position with `Atomics.store`; the reader copies every byte out into memory
 * of its own before it looks at one (ring-codec.ts parses that copy), then publishes its
 * position. Either side may be a hostile guest that writes anything anywhere in the buffer at
 * any time, so each side trusts only its own position and checks the other's: a position
 * that claims more than the ring holds is a protocol fault (`RingFault`), never an index.
 *
 * Waking: a thread with nothing to do sets its bell (an Int32 of its own) to SLEEP, looks
 * once more, and waits on the bell: the host with `Atomics.waitAsync` (its event loop is never
 * blocked), a guest with `Atomics.wait` (cheaper on both sides; guest-rings.ts). The other
 * side rings a bell only when it finds it set, so a busy consumer is never woken and a
 * sleeping one once per burst. A
 * writer that finds the ring full keeps the rest (its caller's staging buffer) and sets the
 * ring's WANT flag; the reader rings the writer's bell when it has made room.
 */

/** Int32 slots of the header: write position, read position, writer waits for room. */
const W = 0;
const R = 1;
const WANT = 2;
const HEADER = 16;

export const SLEEP = 1;

/** `Atomics.waitAsync` (Node ≥ 16; not in the ES2023 lib). */
interface WaitAsync {
  waitAsync(
    a: Int32Array,
    i: number,
    v: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** A position the other side published that cannot be true. */
export class RingFault extends Error {}

/**
 * One thread's bell: an Int32 in shared memory that others ring; a second Int32 says that its
 * owner waits for counts (the host, under backpressure or in `idle()`: guest-rings.ts).
 */
export function newBell(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

export const WANTS_COUNTS = 1;

/** Ring `bell` if its owner sleeps on it. */
export function ring(bell: Int32Array): void {
  if (Atomics.load(bell, 0) === SLEEP) {
    Atomics.store(bell, 0, 0);
    Atomics.notify(bell, 0);
  }
}

/**
 * Sleep on `bell` until rung: calls `wake` once, later (or at once, through a microtask, if it
 * was rung between `check` and now). `check` is the last look: true if there is work, and
 * then `wake` runs at once.
 */
export function sleep(bell: Int32Array, check: () => boolean, wake: () => void): void {
  Atomics.store(bell, 0, SLEEP);
  if (check()) {
    Atomics.store(bell, 0, 0);
    wake();
    return;
  }
  const r = (Atomics as unknown as WaitAsync).waitAsync(bell, 0, SLEEP);
  if (r.async) void r.value.then(wake);
  else queueMicrotask(wake);
}

/** Make a ring of `capacity` bytes (a power of two). */
export function newRing(capacity: number): SharedArrayBuffer {
  if (capacity < 64 || (capacity & (capacity - 1)) !== 0) throw new RangeError('ring capacity');
  return new SharedArrayBuffer(HEADER + capacity);
}

/** Is `x` a ring this module made (or shaped like one: sizes are checked, contents never trusted)? */
export function isRing(x: unknown): x is SharedArrayBuffer {
  if (!(x instanceof SharedArrayBuffer)) return false;
  const c = x.byteLength - HEADER;
  return c >= 64 && (c & (c - 1)) === 0;
}

class End {
  protected readonly head: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly cap: number;

  constructor(sab: SharedArrayBuffer) {
    this.head = new Int32Array(sab, 0, HEADER >> 2);
    this.data = new Uint8Array(sab, HEADER);
    this.cap = this.data.length;
  }

  /** Bytes in the ring between `r` and `w`, checked. */
  protected used(w: number, r: number): number {
    const n = (w - r) >>> 0;
    if (n > this.cap) throw new RingFault('ring position out of range');
    return n;
  }
}

export class RingWriter extends End {
  /** Own position (never read back from shared memory). */
  #w = 0;
  readonly #readerBell: Int32Array;
  readonly #ownBell: Int32Array;

  /** `readerBell`: rung after a write; `ownBell`: what the reader rings when it made room. */
  constructor(sab: SharedArrayBuffer, readerBell: Int32Array, ownBell: Int32Array) {
    super(sab);
    this.#readerBell = readerBell;
    this.#ownBell = ownBell;
  }

  get bell(): Int32Array {
    return this.#ownBell;
  }

  /**
   * Copy as much of `src[from, to)` as fits, publish it and (`wake`) ring the reader; returns
   * how many bytes went. When not all fit, WANT is set: the reader rings `ownBell` once it made
   * room. Throws RingFault if the reader's position is impossible.
   */
  write(src: Uint8Array, from: number, to: number, wake = true): number {
    const w = this.#w;
    const free = this.cap - this.used(w, Atomics.load(this.head, R));
    let n = to - from;
    if (n > free) {
      n = free;
      Atomics.store(this.head, WANT, 1);
    }
    if (n > 0) {
      const at = w & (this.cap - 1);
      const first = Math.min(n, this.cap - at);
      this.data.set(src.subarray(from, from + first), at);
      if (first < n) this.data.set(src.subarray(from + first, from + n), 0);
      this.#w = (w + n) | 0;
      Atomics.store(this.head, W, this.#w);
      if (wake) ring(this.#readerBell);
    }
    return n;
  }

  /** Ring the reader (after writes that did not). */
  wake(): void {
    ring(this.#readerBell);
  }

  /** Is there room now (after WANT was set)? Re-checks the reader's position. */
  hasRoom(): boolean {
    return this.used(this.#w, Atomics.load(this.head, R)) < this.cap;
  }
}

export class RingReader extends End {
  #r = 0;
  readonly #writerBell: Int32Array;

  constructor(sab: SharedArrayBuffer, writerBell: Int32Array) {
    super(sab);
    this.#writerBell = writerBell;
  }

  /** Bytes waiting (checked: throws RingFault if the writer's position is impossible). */
  available(): number {
    return this.used(Atomics.load(this.head, W), this.#r);
  }

  /**
   * Copy every byte waiting (at most `max`) to `dst` at `at` (which has room for them) and
   * release them to the writer; returns how many.
   */
  read(dst: Uint8Array, at: number, max: number): number {
    const n = Math.min(this.available(), max);
    if (n === 0) return 0;
    const r = this.#r;
    const from = r & (this.cap - 1);
    const first = Math.min(n, this.cap - from);
    dst.set(this.data.subarray(from, from + first), at);
    if (first < n) dst.set(this.data.subarray(0, n - first), at + first);
    this.#r = (r + n) | 0;
    Atomics.store(this.head, R, this.#r);
    if (Atomics.load(this.head, WANT) !== 0) {
      Atomics.store(this.head, WANT, 0);
      ring(this.#writerBell);
    }
    return n;
  }
}
