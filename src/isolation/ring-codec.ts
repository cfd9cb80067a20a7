/**
 * The records that cross a tier-1 ring (ring.ts): events one way, publishes, acknowledgements
 * and control messages the other, as compact bytes. A `RecordWriter` encodes into a staging
 * buffer of its own (so a record is whole before any of it is shared); a `RecordReader` parses
 * a private copy of the bytes read from a ring, checking every length, index and tag, and
 * throws `RingFault` on anything malformed (the caller ends the guest that wrote it).
 *
 * Record: u32 length of the rest, u8 tag, then by tag:
 *   EVT   u32 sub, u32 nParts, part*                 (an inbound event: host → guest, pipes)
 *   OUT   name topic, u32 nParts, part*, u8 hasLabels [value]   (a publish: guest → host)
 *   DONE  u32 events handled, u32 handlers that threw
 *   PING / PONG  f64 id
 *   FWD   u32 wire, u32 events written to the pipe
 *   PIPED u32 wire, u32 events taken from it and handled, u32 handlers that threw
 *   CTRL  a control message (protocol.ts), v8-serialized
 * part: name, u8 kind, payload (INT i32; NUM f64; STR u32 length + UTF-16 code units; VAL u32 length +
 * v8-serialized bytes; TRUE, FALSE, NULL, UNDEF none).
 * name: u32; below 2^31 an index into the names seen so far; 2^31 + i defines name i (the
 * next one) with a string that follows; 0xffffffff a string that follows, not kept (past
 * MAX_NAMES). Strings travel as UTF-16 code units, so every JS string comes back as it was.
 */
import { deserialize, serialize } from 'node:v8';
import { FALSE, NULL, NUM, STR, TRUE, VAL, writeParts } from './batch-codec.js';
import { RingFault, type RingReader, type RingWriter } from './ring.js';

export const EVT = 1;
export const OUT = 2;
export const DONE = 3;
export const PING = 4;
export const PONG = 5;
export const FWD = 6;
export const PIPED = 7;
export const CTRL = 8;

const UNDEF = 6;
/** A number that is an int32 (and not -0): four bytes. */
const INT = 7;

const DEFINE = 0x80000000;
const INLINE = 0xffffffff;
/** Names a writer gives numbers to (a reader refuses more). */
const MAX_NAMES = 4096;
/** Largest record a reader accepts (bytes). */
const MAX_RECORD = 1 << 30;
/** Strings up to this many code units are read and written one unit at a time. */
const SHORT = 24;

/** What a reader hands on, record by record, in order. */
export interface RecordSink {
  readonly event?: (sub: number, names: string[], values: unknown[]) => void;
  readonly output?: (topic: string, names: string[], values: unknown[], labels: unknown) => void;
  readonly done?: (n: number, errors: number) => void;
  readonly ping?: (id: number) => void;
  readonly pong?: (id: number) => void;
  readonly fwd?: (wire: number, n: number) => void;
  readonly piped?: (wire: number, n: number, errors: number) => void;
  readonly ctrl?: (m: unknown) => void;
}

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

export class RecordReader {
  #buf = new Uint8Array(1 << 16);
  #dv = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;
  readonly #names: string[] = [];
  /** One shared names array per one-part record of name i (read-only for every user). */
  readonly #single: string[][] = [];
  readonly #fix: (v: unknown) => unknown;

  /** `fix` is applied to every v8-deserialized value (the guest hardens them). */
  constructor(fix: (v: unknown) => unknown = (v) => v) {
    this.#fix = fix;
  }

  /** Copy what `ring` holds into the reader's own buffer; false if nothing came. */
  pull(ring: RingReader): boolean {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    let room = this.#buf.length - this.#end;
    if (room < this.#buf.length >> 2) {
      const left = this.#end - this.#start;
      if (left > this.#buf.length >> 1) {
        if (this.#buf.length >= MAX_RECORD) throw new RingFault('record too long');
        const b = new Uint8Array(this.#buf.length * 2);
        b.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = b;
        this.#dv = new DataView(b.buffer);
      } else this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = left;
      room = this.#buf.length - left;
    }
    const n = ring.read(this.#buf, this.#end, room);
    this.#end += n;
    return n > 0;
  }

  /** Is a whole record waiting? */
  get ready(): boolean {
    const left = this.#end - this.#start;
    return left >= 4 && left - 4 >= this.#dv.getUint32(this.#start, true);
  }

  /**
   * Parse whole records waiting, handing each to `sink`, until `maxEvents` EVT/OUT records are
   * done or none is left whole; returns how many EVT/OUT records. Throws RingFault on a
   * malformed record, or one of a tag `sink` does not take.
   */
  parse(sink: RecordSink, maxEvents: number): number {
    let events = 0;
    while (events < maxEvents) {
      const left = this.#end - this.#start;
      if (left < 4) break;
      const len = this.#dv.getUint32(this.#start, true);
      if (len < 1 || len > MAX_RECORD) throw new RingFault('record length');
      if (left - 4 < len) break;
      const at = this.#start + 4;
      const end = at + len;
      this.#start = end;
      if (this.#record(sink, at, end)) events++;
    }
    return events;
  }

  /** Position and end of the record being parsed. */
  #p = 0;
  #e = 0;

  #u32(): number {
    const p = this.#p;
    if (p + 4 > this.#e) throw new RingFault('record too short');
    this.#p = p + 4;
    return this.#dv.getUint32(p, true);
  }

  #f64(): number {
    const p = this.#p;
    if (p + 8 > this.#e) throw new RingFault('record too short');
    this.#p = p + 8;
    return this.#dv.getFloat64(p, true);
  }

  #u8(): number {
    const p = this.#p;
    if (p >= this.#e) throw new RingFault('record too short');
    this.#p = p + 1;
    return this.#buf[p] as number;
  }

  #string(): string {
    const n = this.#u32();
    const p = this.#p;
    if (n > (this.#e - p) >> 1) throw new RingFault('string length');
    let s: string;
    if (n <= SHORT) {
      const dv = this.#dv;
      s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(dv.getUint16(p + 2 * i, true));
    } else
      s = Buffer.from(this.#buf.buffer, this.#buf.byteOffset).toString('utf16le', p, p + 2 * n);
    this.#p = p + 2 * n;
    return s;
  }

  #value(): unknown {
    const n = this.#u32();
    const p = this.#p;
    if (n > this.#e - p) throw new RingFault('value length');
    let v: unknown;
    try {
      v = deserialize(this.#buf.subarray(p, p + n));
    } catch {
      throw new RingFault('value');
    }
    this.#p = p + n;
    return v;
  }

  #name(): string {
    const i = this.#u32();
    const names = this.#names;
    if (i < names.length) return names[i] as string;
    if (i === INLINE) return this.#string();
    if (i !== DEFINE + names.length || names.length >= MAX_NAMES) throw new RingFault('name');
    const s = this.#string();
    names.push(s);
    return s;
  }

  #part(): unknown {
    switch (this.#u8()) {
      case INT: {
        const p = this.#p;
        if (p + 4 > this.#e) throw new RingFault('record too short');
        this.#p = p + 4;
        return this.#dv.getInt32(p, true);
      }
      case NUM:
        return this.#f64();
      case STR:
        return this.#string();
      case VAL:
        return this.#fix(this.#value());
      case TRUE:
        return true;
      case FALSE:
        return false;
      case NULL:
        return null;
      case UNDEF:
        return undefined;
      default:
        throw new RingFault('kind');
    }
  }

  /** The parts of the record being parsed (#parts sets them). */
  #pn: string[] = [];
  #pv: unknown[] = [];

  /** The parts of an EVT or OUT record: a fresh values array, names shared for one-part records. */
  #parts(): void {
    const n = this.#u32();
    if (n > this.#e - this.#p) throw new RingFault('part count');
    if (n === 1) {
      const i = this.#p + 4 <= this.#e ? this.#dv.getUint32(this.#p, true) : -1;
      const nm = this.#name();
      this.#pn = i >= 0 && i < this.#names.length ? (this.#single[i] ??= [nm]) : [nm];
      this.#pv = [this.#part()];
      return;
    }
    const names = new Array<string>(n);
    const values = new Array<unknown>(n);
    for (let k = 0; k < n; k++) {
      names[k] = this.#name();
      values[k] = this.#part();
    }
    this.#pn = names;
    this.#pv = values;
  }

  #record(sink: RecordSink, at: number, end: number): boolean {
    this.#p = at + 1;
    this.#e = end;
    const tag = this.#buf[at] as number;
    switch (tag) {
      case EVT: {
        const sub = this.#u32();
        this.#parts();
        if (this.#p !== end || sink.event === undefined) throw new RingFault('record');
        sink.event(sub, this.#pn, this.#pv);
        return true;
      }
      case OUT: {
        const topic = this.#name();
        this.#parts();
        const names = this.#pn;
        const values = this.#pv;
        const k = this.#u8();
        const labels = k === 0 ? undefined : k === 1 ? this.#value() : fault();
        if (this.#p !== end || sink.output === undefined) throw new RingFault('record');
        sink.output(topic, names, values, labels);
        return true;
      }
      case DONE:
      case FWD: {
        const a = this.#u32();
        const b = this.#u32();
        const f = tag === DONE ? sink.done : sink.fwd;
        if (this.#p !== end || f === undefined) throw new RingFault('record');
        f(a, b);
        return false;
      }
      case PIPED: {
        const a = this.#u32();
        const b = this.#u32();
        const c = this.#u32();
        if (this.#p !== end || sink.piped === undefined) throw new RingFault('record');
        sink.piped(a, b, c);
        return false;
      }
      case PING:
      case PONG: {
        const id = this.#f64();
        const f = tag === PING ? sink.ping : sink.pong;
        if (this.#p !== end || f === undefined) throw new RingFault('record');
        f(id);
        return false;
      }
      case CTRL: {
        const m = this.#value();
        if (this.#p !== end || sink.ctrl === undefined) throw new RingFault('record');
        sink.ctrl(m);
        return false;
      }
      default:
        throw new RingFault('tag');
    }
  }
}

function fault(): never {
  throw new RingFault('record');
}
