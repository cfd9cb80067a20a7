import type { Label } from '../../labels.js';
import { NO_KEY, type Key } from '../receiver.js';
import { decodeKey, encodeKey } from './key-codec.js';
import { KeptStateError } from './kept-state-error.js';
import type { KeptOperator, KeptRouter, SourceCursor } from './kept-slots.js';
import type { StateStore } from './state-store.js';

/** What restoring needs of the checkpointer. */
export interface RestoreContext {
  readonly store: StateStore;
  /** `sluice/<pipeline>/`. */
  readonly prefix: string;
  /** The graph's fingerprint. */
  readonly graph: string;
  /** A label with the integrity tag `kept` added: every record is read at one. */
  seal(l: Label): Label;
}

const PAGE = 1000;

export function record(v: unknown, where: string): Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new KeptStateError('E_STATE_CORRUPT', `${where}: a stored record is corrupt`);
  }
  return v as Readonly<Record<string, unknown>>;
}

/** Load the last checkpoint, if any: positions, then each router's keys, then each operator. */
export async function restoreKept(
  cx: RestoreContext,
  sources: Iterable<SourceCursor>,
  ops: readonly KeptOperator[],
  routers: ReadonlyMap<number, KeptRouter>,
): Promise<void> {
  let found = false;
  for (const c of sources) if (await restoreSource(cx, c)) found = true;
  if (!found) return;
  const keys = new Map<number, readonly (string | number)[]>();
  for (const r of routers.values()) keys.set(r.index, await restoreRouter(cx, r));
  for (const k of ops) {
    const mine = new Set<string | number>();
    for (const r of k.routers) for (const key of keys.get(r) ?? []) mine.add(key);
    await restoreOperator(cx, k, mine);
  }
}

async function restoreSource(cx: RestoreContext, c: SourceCursor): Promise<boolean> {
  const where = `source ${String(c.index)}`;
  const got = await cx.store.at(cx.seal(c.label)).get(`${cx.prefix}src/${String(c.index)}`);
  if (got === undefined) return false;
  const r = record(got, where);
  if (r.v !== 1 || typeof r.graph !== 'string' || !Number.isSafeInteger(r.pos)) {
    throw new KeptStateError('E_STATE_CORRUPT', `${where}: the stored position is corrupt`);
  }
  if (r.graph !== cx.graph) {
    throw new KeptStateError(
      'E_STATE_INCOMPATIBLE',
      'the stored state was kept by a different pipeline graph (or an older Sluice): run the ' +
        'pipeline it was kept by, give this one another name, or remove the stored state',
    );
  }
  c.skip = c.resumedAt = Math.max(0, r.pos as number);
  return true;
}

/** The keys a router had routed, in store order. */
async function restoreRouter(cx: RestoreContext, r: KeptRouter): Promise<(string | number)[]> {
  const at = `${cx.prefix}op/${String(r.index)}/i/`;
  const view = cx.store.at(cx.seal(r.label));
  const out: (string | number)[] = [];
  let cursor: string | undefined;
  do {
    const page = await view.scan({
      prefix: at,
      limit: PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const item of page.items) {
      const key = decodeKey(record(item.value, r.name).k, r.name);
      if (item.key !== `${at}${encodeKey(key).id}`) {
        throw new KeptStateError('E_STATE_CORRUPT', `${r.name}: a stored key is corrupt`);
      }
      r.known.add(key);
      out.push(key);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** The unkeyed record at the operator's label; each key's, at that key's instance label. */
async function restoreOperator(
  cx: RestoreContext,
  k: KeptOperator,
  keys: ReadonlySet<string | number>,
): Promise<void> {
  const at = `${cx.prefix}op/${String(k.index)}/`;
  const one = await cx.store.at(cx.seal(k.base)).get(`${at}-`);
  if (one !== undefined) restoreOne(k, NO_KEY, record(one, k.name));
  if (!k.keyed) return;
  for (const key of keys) {
    const e = encodeKey(key);
    const got = await cx.store.at(cx.seal(k.node.labelOf(key))).get(`${at}k/${e.id}`);
    // Absent: the key never reached this operator's instance, or left nothing to keep there.
    if (got === undefined) continue;
    const r = record(got, k.name);
    if (r.k !== e.text) {
      throw new KeptStateError('E_STATE_CORRUPT', `${k.name}: a stored key is corrupt`);
    }
    restoreOne(k, key, r);
  }
}

function restoreOne(k: KeptOperator, key: Key, r: Readonly<Record<string, unknown>>): void {
  if (r.dead === true) {
    k.node.restoreFailed(key);
    return;
  }
  const ops = k.node.state();
  try {
    if (ops === undefined || !('s' in r)) throw new Error('no state');
    ops.load(key, r.s);
  } catch {
    throw new KeptStateError('E_STATE_CORRUPT', `${k.name}: a stored state has the wrong shape`);
  }
}
