/** Encodes the records of a tier-1 ring (the format: ring-codec.ts) into a staging buffer. */
import { serialize } from 'node:v8';
import { writeParts } from './batch-codec.js';
import {
  DEFINE,
  EVT,
  FALSE,
  INLINE,
  INT,
  MAX_NAMES,
  NULL,
  NUM,
  OUT,
  SHORT,
  STR,
  TRUE,
  UNDEF,
  VAL,
  CTRL,
} from './ring-codec.js';
import type { RingWriter } from './ring.js';

export class RecordWriter {
  #buf = new Uint8Array(1 << 16);
  #dv = new DataView(this.#buf.buffer);
  #len = 0;
  /** Bytes of `#buf` already written to the ring. */
  #sent = 0;
  #dict = new Map<string, number>();
  #names: string[] = [];
  /** Start of the record being written, and the names known before it (to undo it). */
  #at = -1;
  #known = 0;
  /** Records (all tags) and event records staged. */
  #events = 0;

  /** EVT and OUT records staged (since the last `take`). */
  get events(): number {
    return this.#events;
  }

  /** Bytes staged and not yet in the ring. */
  get pending(): number {
    return this.#len - this.#sent;
  }

  #room(k: number): void {
    if (this.#len + k <= this.#buf.length) return;
    const b = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + k));
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
    this.#dv = new DataView(b.buffer);
  }

  // Stores go through the DataView: in a realm locked down by SES (every guest, and the host
  // once a tier-0 unit ran) an indexed store into a typed array costs ≈ 35 ns, a DataView
  // store ≈ 1 ns (SES wraps setFloat64, to hide NaN bits: ≈ 8 ns).
  #u8(x: number): void {
    this.#dv.setUint8(this.#len++, x);
  }

  #u32(x: number): void {
    this.#dv.setUint32(this.#len, x, true);
    this.#len += 4;
  }

  #f64(x: number): void {
    this.#dv.setFloat64(this.#len, x, true);
    this.#len += 8;
  }

  #string(s: string): void {
    const n = s.length;
    this.#room(4 + 2 * n);
    this.#u32(n);
    const dv = this.#dv;
    let at = this.#len;
    if (n <= SHORT) {
      for (let i = 0; i < n; i++, at += 2) dv.setUint16(at, s.charCodeAt(i), true);
    } else {
      Buffer.from(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length).write(s, at, 'utf16le');
      at += 2 * n;
    }
    this.#len = at;
  }

  #bytes(b: Uint8Array): void {
    this.#room(4 + b.length);
    this.#u32(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  #name(s: string): void {
    this.#room(4);
    const i = this.#dict.get(s);
    if (i !== undefined) {
      this.#u32(i);
      return;
    }
    if (this.#names.length >= MAX_NAMES) {
      this.#u32(INLINE);
    } else {
      const id = this.#names.push(s) - 1;
      this.#dict.set(s, id);
      this.#u32(DEFINE + id);
    }
    this.#string(s);
  }

  #begin(tag: number): void {
    this.#room(16);
    this.#at = this.#len;
    this.#known = this.#names.length;
    this.#len += 4;
    this.#u8(tag);
  }

  #end(): void {
    this.#dv.setUint32(this.#at, this.#len - this.#at - 4, true);
    this.#at = -1;
  }

  /** Forget the record being written (a value that could not be read or encoded). */
  #undo(): void {
    if (this.#at < 0) return;
    this.#len = this.#at;
    this.#at = -1;
    for (const s of this.#names.splice(this.#known)) this.#dict.delete(s);
  }

  /** One part; a value of no fast kind is v8-serialized (throws if it cannot be). */
  part(name: string, v: unknown): void {
    this.#name(name);
    this.#room(9);
    if (typeof v === 'number') {
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        this.#u8(INT);
        this.#dv.setInt32(this.#len, v, true);
        this.#len += 4;
      } else {
        this.#u8(NUM);
        this.#f64(v);
      }
    } else if (typeof v === 'string') {
      this.#u8(STR);
      this.#string(v);
    } else if (v === true || v === false || v === null || v === undefined) {
      this.#u8(v === null ? NULL : v === undefined ? UNDEF : v ? TRUE : FALSE);
    } else {
      const b = serialize(v);
      this.#u8(VAL);
      this.#bytes(b);
    }
  }

  /** Start an inbound event for subscription `sub` with `parts` parts (then `part` each, `close`). */
  event(sub: number, parts: number): void {
    this.#begin(EVT);
    this.#u32(sub);
    this.#u32(parts);
  }

  /** End the record begun by `event`. */
  close(): void {
    this.#end();
    this.#events++;
  }

  /**
   * One whole record from a parts object as the code gave it, read now: an OUT record on
   * `topic` with `labels`, or (topic undefined) an EVT record for subscription 0. A getter
   * that throws, or a value that cannot be encoded, leaves nothing of it (and throws); a
   * publish from inside a getter (which would write into the middle of it) throws.
   */
  record(
    topic: string | undefined,
    parts: Readonly<Record<string, unknown>>,
    labels?: unknown,
  ): void {
    if (this.#at >= 0) throw new TypeError('publish while the parts of another publish are read');
    try {
      this.#begin(topic === undefined ? EVT : OUT);
      if (topic === undefined) this.#u32(0);
      else this.#name(topic);
      const count = this.#len;
      this.#room(4);
      this.#len += 4;
      const n = writeParts(parts, this); // (first: it may grow the buffer)
      this.#dv.setUint32(count, n, true);
      if (topic !== undefined) {
        this.#room(1);
        if (labels === undefined) this.#u8(0);
        else {
          const b = serialize(labels);
          this.#u8(1);
          this.#bytes(b);
        }
      }
      this.close();
    } catch (e) {
      this.#undo();
      throw e;
    }
  }

  /** A record of counts (DONE, FWD, PIPED): one to three u32. */
  counts(tag: number, a: number, b?: number, c?: number): void {
    this.#begin(tag);
    this.#u32(a);
    if (b !== undefined) this.#u32(b);
    if (c !== undefined) this.#u32(c);
    this.#end();
  }

  /** A PING or PONG. */
  id(tag: number, id: number): void {
    this.#begin(tag);
    this.#f64(id);
    this.#end();
  }

  /** A control message (throws if it cannot be serialized: nothing is written). */
  ctrl(m: unknown): void {
    const b = serialize(m);
    this.#begin(CTRL);
    this.#bytes(b);
    this.#end();
  }

  /**
   * Move what is staged into `ring`, as much as fits (the rest stays staged, in order), and
   * (`wake`) ring its reader; the staged EVT/OUT count restarts. Throws RingFault if the reader's position is impossible.
   */
  flush(ring: RingWriter, wake = true): void {
    this.#events = 0;
    if (this.#at >= 0) return; // inside a record (a publish from a getter): later
    this.#sent += ring.write(this.#buf, this.#sent, this.#len, wake);
    if (this.#sent === this.#len) this.#sent = this.#len = 0;
    else if (this.#sent > this.#buf.length >> 1) {
      this.#buf.copyWithin(0, this.#sent, this.#len);
      this.#len -= this.#sent;
      this.#sent = 0;
    }
  }

  /** Drop everything staged. */
  clear(): void {
    this.#len = this.#sent = this.#events = 0;
    this.#at = -1;
  }
}
