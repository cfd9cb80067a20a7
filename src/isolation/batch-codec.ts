/**
 * The encoding of a batch of events between the host and a guest in tier 1 or 2: one
 * `Float64Array` tape (transferred to a worker thread, not copied), the batch's strings (part
 * names and topics once each, then string values) and the values that are neither numbers,
 * strings, booleans nor null (structured-cloned; rare in practice). Numbers, booleans and null
 * cost one or two tape slots and no object at all; structured clone of one object per event
 * (≈ 1.5–2 µs, DESIGN.md §4) is what this replaces.
 *
 * Tape, per record:
 *   inbound  (host → guest): sub, nParts, (part)*
 *   outbound (guest → host): topic, nParts, (part)*, labels (index into vals, or -1)
 *   part: name × 8 + kind, then a payload slot for kinds NUM, STR and VAL
 * `name` and `topic` index `strs`. The reader checks every index, count and kind: the host
 * trusts nothing a guest sends.
 */

/** Kinds of a part's value (ring-codec.ts uses them too). */
export const NUM = 0;
export const STR = 1;
export const VAL = 2;
export const TRUE = 3;
export const FALSE = 4;
export const NULL = 5;

/** A batch as it crosses (structured-clone safe: a typed array, two arrays). */
export interface EncodedBatch {
  /** Records in the batch. */
  readonly n: number;
  readonly nums: Float64Array;
  readonly strs: readonly string[];
  readonly vals: readonly unknown[];
}

/**
 * Write each part of a parts object as the code gave it, reading it now, with `w.part`;
 * returns how many. A plain object's names are read with for…in (V8's enum cache: no array);
 * others' with Object.keys. (ring-codec.ts writes its records with it too.)
 */
export function writeParts(
  parts: Readonly<Record<string, unknown>>,
  w: { part(name: string, v: unknown): void },
): number {
  let n = 0;
  if (Object.getPrototypeOf(parts) === Object.prototype) {
    for (const name in parts) {
      w.part(name, parts[name]);
      n++;
    }
  } else {
    for (const name of Object.keys(parts)) {
      w.part(name, parts[name]);
      n++;
    }
  }
  return n;
}

/** Builds one batch at a time; `finish()` hands it over and starts the next. */
export class BatchWriter {
  #nums = new Float64Array(1024);
  #len = 0;
  #n = 0;
  #strs: string[] = [];
  #vals: unknown[] = [];
  #dict = new Map<string, number>();
  #writing = false;

  /** Records written since the last `finish()`. */
  get count(): number {
    return this.#n;
  }

  /** Room for `k` more slots (one check per record or part, not per slot). */
  #room(k: number): Float64Array {
    let nums = this.#nums;
    if (this.#len + k > nums.length) {
      const bigger = new Float64Array(Math.max(nums.length * 2, this.#len + k));
      bigger.set(nums.subarray(0, this.#len));
      this.#nums = nums = bigger;
    }
    return nums;
  }

  #name(s: string): number {
    let i = this.#dict.get(s);
    if (i === undefined) {
      i = this.#strs.push(s) - 1;
      this.#dict.set(s, i);
    }
    return i;
  }

  /** Start an inbound record for subscription `sub` with `parts` parts. */
  inbound(sub: number, parts: number): void {
    const nums = this.#room(2);
    this.#n++;
    nums[this.#len] = sub;
    nums[this.#len + 1] = parts;
    this.#len += 2;
  }

  /** Start an outbound record on `topic` with `parts` parts (then `labels` after the parts). */
  outbound(topic: string, parts: number): void {
    const nums = this.#room(2);
    this.#n++;
    nums[this.#len] = this.#name(topic);
    nums[this.#len + 1] = parts;
    this.#len += 2;
  }

  part(name: string, v: unknown): void {
    const nums = this.#room(2);
    const k = this.#name(name) * 8;
    const at = this.#len;
    if (typeof v === 'number') {
      nums[at] = k + NUM;
      nums[at + 1] = v;
      this.#len = at + 2;
    } else if (typeof v === 'string') {
      nums[at] = k + STR;
      nums[at + 1] = this.#strs.push(v) - 1;
      this.#len = at + 2;
    } else if (v === true || v === false || v === null) {
      nums[at] = k + (v === null ? NULL : v ? TRUE : FALSE);
      this.#len = at + 1;
    } else {
      nums[at] = k + VAL;
      nums[at + 1] = this.#vals.push(v) - 1;
      this.#len = at + 2;
    }
  }

  /** The per-part label requests of an outbound record (undefined: none). */
  labels(l: unknown): void {
    const nums = this.#room(1);
    nums[this.#len++] = l === undefined ? -1 : this.#vals.push(l) - 1;
  }

  /**
   * Write one whole record from a parts object as the code gave it, reading it now: an
   * outbound record on `head` (a topic) followed by `labels`, or an inbound record for
   * subscription `head`. A getter that throws leaves nothing of the record (and a publish from
   * inside a getter, which would write into the middle of it, throws). A plain object's names
   * are read with for…in (V8's enum cache: no array); others' with Object.keys.
   */
  record(head: number | string, parts: Readonly<Record<string, unknown>>, labels?: unknown): void {
    if (this.#writing) throw new TypeError('publish while the parts of another publish are read');
    const m = this.mark();
    this.#writing = true;
    try {
      const at = this.#len;
      this.#room(2)[at] = typeof head === 'string' ? this.#name(head) : head;
      this.#len = at + 2;
      const n = writeParts(parts, this); // (first: it may grow the tape)
      this.#nums[at + 1] = n;
      if (typeof head === 'string') this.labels(labels);
      this.#n++;
    } catch (e) {
      this.undo(m);
      throw e;
    } finally {
      this.#writing = false;
    }
  }

  /** Where the batch stands now, to undo a record that could not be finished (`undo`). */
  mark(): number {
    return this.#len * 2 ** 21 + this.#n;
  }

  /** Forget everything written since `mark()` returned `m` (strings and values stay, unused). */
  undo(m: number): void {
    this.#n = m % 2 ** 21;
    this.#len = (m - this.#n) / 2 ** 21;
  }

  /**
   * The batch so far; the next starts empty. The tape is a view of the writer's own buffer,
   * which goes with it (transferred, not copied); the next batch gets a new one of the size the
   * last one needed.
   */
  finish(): EncodedBatch {
    const size = this.#nums.length;
    const b: EncodedBatch = {
      n: this.#n,
      nums: new Float64Array(this.#nums.buffer, 0, this.#len),
      strs: this.#strs,
      vals: this.#vals,
    };
    this.#nums = new Float64Array(Math.max(1024, Math.min(size, 2 * this.#len + 16)));
    this.#len = 0;
    this.#n = 0;
    this.#strs = [];
    this.#vals = [];
    this.#dict = new Map();
    return b;
  }
}

/** One decoded record: a fresh `names`/`values` pair per record (handlers may keep them). */
export type Visit = (
  head: number | string,
  names: string[],
  values: unknown[],
  labels: unknown,
) => void;

function isIndex(x: unknown, length: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < length;
}

/**
 * Decode `b` (untrusted), calling `visit` per record in order; `fix` is applied to every
 * structured-cloned value (the guest hardens them). False if `b` is malformed: records before
 * the fault may have been visited, so the caller treats the sender as broken.
 */
export function readBatch(
  b: unknown,
  outbound: boolean,
  visit: Visit,
  fix: (v: unknown) => unknown = (v) => v,
): boolean {
  if (typeof b !== 'object' || b === null) return false;
  const { n, nums, strs, vals } = b as Partial<Record<keyof EncodedBatch, unknown>>;
  if (
    !(nums instanceof Float64Array) ||
    !Array.isArray(strs) ||
    !Array.isArray(vals) ||
    !isIndex(n, nums.length + 1) ||
    !strs.every((s) => typeof s === 'string')
  )
    return false;
  const str = strs;
  const len = nums.length;
  let at = 0;
  for (let r = 0; r < n; r++) {
    if (at + 2 > len) return false;
    const h = nums[at++] as number;
    const parts = nums[at++] as number;
    if (outbound ? !isIndex(h, str.length) : !Number.isInteger(h)) return false;
    if (!isIndex(parts, len - at + 1)) return false;
    const names: string[] = new Array<string>(parts);
    const values: unknown[] = new Array<unknown>(parts);
    for (let i = 0; i < parts; i++) {
      if (at >= len) return false;
      const nk = nums[at++] as number;
      const kind = nk % 8;
      const name = (nk - kind) / 8;
      if (!isIndex(name, str.length)) return false;
      names[i] = str[name] as string;
      if (kind === TRUE || kind === FALSE || kind === NULL) {
        values[i] = kind === NULL ? null : kind === TRUE;
        continue;
      }
      if (at >= len) return false;
      const x = nums[at++] as number;
      if (kind === NUM) values[i] = x;
      else if (kind === STR && isIndex(x, str.length)) values[i] = str[x];
      else if (kind === VAL && isIndex(x, vals.length)) values[i] = fix(vals[x]);
      else return false;
    }
    let labels: unknown = undefined;
    if (outbound) {
      if (at >= len) return false;
      const li = nums[at++] as number;
      if (li !== -1) {
        if (!isIndex(li, vals.length)) return false;
        labels = vals[li];
      }
    }
    visit(outbound ? (str[h] as string) : h, names, values, labels);
  }
  return at === len;
}
