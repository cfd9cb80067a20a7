/**
 * `pipe(from, topic, to)`: the publishes of tier-1 unit `from` on `topic` go straight from its
 * worker thread to the worker of tier-1 unit `to` (a ring in shared memory between the two
 * guests, ring.ts), instead of back through the host's thread and engine, and are delivered to
 * `to`'s subscriptions on `topic`. A chain of tier-1 units then crosses the host's thread once at
 * each end, not at every hop.
 *
 * Why this keeps the rules of DESIGN.md §1 (the host checks once, when it wires the pipe):
 * - Everything `from` can write comes from what it was given: parts whose labels flow to its
 *   fixed label L_from (the host projects its input, and a pipe into it carries data at most
 *   at its producer's label, which flows to L_from). So the pipe carries data at L_from, and
 *   `pipe` refuses unless L_from ⊑ L_to: secrecy only grows and integrity only shrinks along
 *   it. This holds whatever the producer's guest sends, even a compromised one: it cannot
 *   know anything above L_from.
 * - Through the engine, `to` would receive `from`'s event iff its presence (L_from) flows to
 *   L_to, and see each part iff the part's label flows to L_to. With every part at L_from both
 *   hold. A publish on a piped topic that asks for other part labels (which only the host can
 *   check, with tags the code never holds) throws in the guest: a pipe never relabels, never
 *   declassifies (the producer's privileges play no part), never endorses.
 * - Labels of isolated units are fixed when they start, so the check stays true.
 * What changes: the topic becomes a private channel from `from` to `to`: other subscribers of
 * `topic` no longer receive `from`'s publishes on it (others' publishes on it still reach `to`
 * through the host). The host still sees counts: both guests report, per batch, how many
 * events crossed the pipe (`sent`, `handled` here), which bound `to`'s backlog (its sources are
 * slowed as for any backlog), budget its CPU watchdog and make `idle()`/`stop()` wait for it;
 * handler errors are audited as before, and the wiring itself is audited.
 */
import { ConfigError, FlowViolationError, type Engine, type Label } from '../index.js';
import type { IsolatedUnit } from './isolated-unit.js';
import type { RemoteGuest } from './remote-guest.js';
import { Wire } from './wire.js';

/** What `pipe` needs of a tier-1 unit (registered by isolated-unit.ts, never exposed). */
export interface PipeEnd {
  readonly engine: Engine;
  readonly remote: RemoteGuest;
  readonly id: string;
  readonly label: Label;
  readonly subs: readonly string[];
}

/** A pipe's counts, as the two guests reported them. */
export interface Pipe {
  readonly topic: string;
  /** Events the producer wrote to the pipe. */
  readonly sent: number;
  /** Events the consumer took from the pipe and handled. */
  readonly handled: number;
}

const ends = new WeakMap<object, PipeEnd>();
const piped = new WeakMap<RemoteGuest, Set<string>>();
let nextWire = 1;

export function registerPipeEnd(unit: IsolatedUnit, end: PipeEnd): void {
  ends.set(unit, end);
}

/**
 * Pipe `from`'s publishes on `topic` to `to` (both running tier-1 units of one engine; `to`
 * subscribes to `topic`). Waits until neither has a backlog, so the pipe's first events come
 * after every event already on their way. Throws a FlowViolationError (audited) unless
 * `from`'s label flows to `to`'s.
 */
export async function pipe(from: IsolatedUnit, topic: string, to: IsolatedUnit): Promise<Pipe> {
  const a = ends.get(from);
  const b = ends.get(to);
  if (a === undefined || b === undefined || a.engine !== b.engine || a === b)
    throw new ConfigError('pipe connects two tier-1 units of one engine');
  const subs: number[] = [];
  b.subs.forEach((t, i) => {
    if (t === topic) subs.push(i);
  });
  if (subs.length === 0) throw new ConfigError(`unit '${b.id}' does not subscribe to the topic`);
  const out = piped.get(a.remote) ?? new Set<string>();
  if (out.has(topic)) throw new ConfigError(`unit '${a.id}' already pipes the topic`);
  const engine = a.engine;
  if (!a.label.flowsTo(b.label)) {
    engine.audit.record({
      kind: 'refused-flow',
      unit: a.id,
      op: `pipe to unit '${b.id}'`,
      from: a.label.toString(),
      to: b.label.toString(),
    });
    throw new FlowViolationError(
      `pipe from unit '${a.id}' at ${a.label.toString()} to unit '${b.id}' at ${b.label.toString()}: the label may not flow there`,
    );
  }
  // Nothing of `from`'s may still be on its way to `to` through the host when the pipe opens.
  for (;;) {
    await engine.idle();
    await a.remote.below(0);
    await b.remote.below(0);
    if (a.remote.ended !== undefined || b.remote.ended !== undefined)
      throw new ConfigError('pipe connects two running units');
    if (engine.stats().queued === 0 && a.remote.backlog === 0 && b.remote.backlog === 0) break;
  }
  const wire = new Wire(nextWire++, topic);
  if (!a.remote.pipeTo(b.remote, wire, subs))
    throw new ConfigError('pipe connects two running units');
  out.add(topic);
  piped.set(a.remote, out);
  engine.audit.record({
    kind: 'unit-isolated',
    unit: a.id,
    op: `pipe a topic to unit '${b.id}' (tier 1, guest to guest)`,
    from: a.label.toString(),
    to: b.label.toString(),
  });
  return Object.freeze({
    topic,
    get sent() {
      return wire.sent;
    },
    get handled() {
      return wire.done;
    },
  });
}
