/**
 * Parses the records of a tier-1 ring (the format: ring-codec.ts) from a private copy of its
 * bytes, trusting none of them: every length, index, count and tag is checked, and anything
 * malformed throws `RingFault`.
 */
import { deserialize } from 'node:v8';
import {
  CTRL,
  DEFINE,
  DONE,
  EVT,
  FALSE,
  FWD,
  INLINE,
  INT,
  MAX_NAMES,
  MAX_RECORD,
  NULL,
  NUM,
  OUT,
  PING,
  PIPED,
  PONG,
  SHORT,
  STR,
  TRUE,
  UNDEF,
  VAL,
  type RecordSink,
} from './ring-codec.js';
import { RingFault, type RingReader } from './ring.js';

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
    this.#halted = false;
    while (events < maxEvents) {
      if (this.#halted as boolean) break; // (a record's sink may halt the parse)
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

  #halted = false;

  /** Stop `parse` after the record being handled (the rest stays, for a later `parse`). */
  halt(): void {
    this.#halted = true;
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
