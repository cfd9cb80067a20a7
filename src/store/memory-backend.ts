import type { Label } from '../labels.js';
import { randomBytes } from 'node:crypto';
import type {
  LabelledOps,
  ScanEntry,
  ScanRange,
  StoreBackend,
  WriteGuard,
  WriteOp,
} from './backend.js';
import { jsonEqual, type JsonValue } from './json-value.js';
import { compareKeys } from './store-key.js';
import { closedError } from './store-error.js';

interface Facet {
  readonly label: Label;
  readonly seq: number;
  /** `undefined` is a tombstone. */
  readonly value: JsonValue | undefined;
}

/** Newest facet of `facets` (kept newest first) whose label ⊑ reader. */
function visible(facets: readonly Facet[] | undefined, reader: Label): JsonValue | undefined {
  if (facets === undefined) return undefined;
  for (const f of facets) if (f.label.flowsTo(reader)) return f.value;
  return undefined;
}

/**
 * The in-memory backend: key → facets, newest first. Values are kept as the frozen copies the
 * store made, so a read hands back the same frozen object without parsing.
 */
export class MemoryBackend implements StoreBackend {
  readonly kind = 'memory';
  readonly seed = Uint8Array.from(randomBytes(32));
  readonly #keys = new Map<string, Facet[]>();
  #seq = 0;
  #closed = false;

  #open(): void {
    if (this.#closed) throw closedError();
  }

  get(reader: Label, key: string): Promise<JsonValue | undefined> {
    this.#open();
    return Promise.resolve(visible(this.#keys.get(key), reader));
  }

  write(writer: Label, ops: readonly WriteOp[], guard?: WriteGuard): Promise<boolean> {
    this.#open();
    if (guard !== undefined) {
      const current = visible(this.#keys.get(guard.key), writer);
      if (!jsonEqual(current, guard.expected)) return Promise.resolve(false);
    }
    this.#apply(writer, ops);
    return Promise.resolve(true);
  }

  writeMany(groups: readonly LabelledOps[]): Promise<void> {
    this.#open();
    for (const g of groups) this.#apply(g.writer, g.ops);
    return Promise.resolve();
  }

  /** Synchronous: no other call runs between a guard and the last write (one transaction). */
  #apply(writer: Label, ops: readonly WriteOp[]): void {
    for (const op of ops) {
      const old = this.#keys.get(op.key);
      const kept = old === undefined ? [] : old.filter((f) => !writer.flowsTo(f.label));
      kept.unshift({ label: writer, seq: ++this.#seq, value: op.value?.value });
      this.#keys.set(op.key, kept);
    }
  }

  #sortedKeys(range: { prefix: string; after: string | undefined }): string[] {
    const out: string[] = [];
    for (const k of this.#keys.keys()) {
      if (!k.startsWith(range.prefix)) continue;
      if (range.after !== undefined && compareKeys(k, range.after) <= 0) continue;
      out.push(k);
    }
    return out.sort(compareKeys);
  }

  scan(reader: Label, range: ScanRange): Promise<ScanEntry[]> {
    this.#open();
    const out: ScanEntry[] = [];
    for (const key of this.#sortedKeys(range)) {
      if (out.length >= range.limit) break;
      const value = visible(this.#keys.get(key), reader);
      if (value !== undefined) out.push({ key, value });
    }
    return Promise.resolve(out);
  }

  count(reader: Label, prefix: string): Promise<number> {
    this.#open();
    let n = 0;
    for (const [k, facets] of this.#keys) {
      if (k.startsWith(prefix) && visible(facets, reader) !== undefined) n++;
    }
    return Promise.resolve(n);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#keys.clear();
    return Promise.resolve();
  }
}
