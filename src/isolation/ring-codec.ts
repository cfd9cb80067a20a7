/**
 * The records that cross a tier-1 ring (ring.ts): events one way, publishes, acknowledgements
 * and control messages the other, as compact bytes. A `RecordWriter` (record-writer.ts)
 * encodes into a staging buffer of its own (so a record is whole before any of it is shared);
 * a `RecordReader` (record-reader.ts) parses a private copy of the bytes read from a ring,
 * checking every length, index and tag, and throws `RingFault` on anything malformed (the
 * caller ends the guest that wrote it).
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
export { FALSE, NULL, NUM, STR, TRUE, VAL } from './batch-codec.js';

export const EVT = 1;
export const OUT = 2;
export const DONE = 3;
export const PING = 4;
export const PONG = 5;
export const FWD = 6;
export const PIPED = 7;
export const CTRL = 8;

export const UNDEF = 6;
/** A number that is an int32 (and not -0): four bytes. */
export const INT = 7;

export const DEFINE = 0x80000000;
export const INLINE = 0xffffffff;
/** Names a writer gives numbers to (a reader refuses more). */
export const MAX_NAMES = 4096;
/** Largest record a reader accepts (bytes). */
export const MAX_RECORD = 1 << 30;
/** Strings up to this many code units are read and written one unit at a time. */
export const SHORT = 24;

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
