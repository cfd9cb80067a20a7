import { ConfigError } from '../../errors.js';
import type { KeyFamily } from '../key-family.js';
import type { Node } from '../node.js';
import { asStream, Stream, type OperatorOptions } from '../stream.js';

/** `op(a, b, c)` or `op(a, b, c, options)`: the streams and the options. */
export function splitStreams(
  kind: string,
  args: readonly unknown[],
): { streams: Stream<unknown>[]; options: OperatorOptions | undefined } {
  const last = args[args.length - 1];
  const hasOptions = last !== undefined && !(last instanceof Stream);
  const streams = (hasOptions ? args.slice(0, -1) : args).map((s, i) =>
    asStream(s, `${kind}: input ${String(i + 1)}`),
  );
  return { streams, options: hasOptions ? (last as OperatorOptions) : undefined };
}

const familiesMemo = new WeakMap<Node, readonly KeyFamily[]>();

/**
 * The key families a stream's notifications carry: the same rule as the static check (keyBy
 * adds its family, a release removes the families it holds, every other node joins its inputs).
 * The graph is immutable once built, so this is exact at build time.
 */
export function familiesOf(n: Node): readonly KeyFamily[] {
  const memo = familiesMemo.get(n);
  if (memo !== undefined) return memo;
  let fams: KeyFamily[] = [];
  for (const i of n.inputs) {
    for (const f of familiesOf(i.node)) if (!fams.includes(f)) fams.push(f);
  }
  const e = n.effect;
  if (e.kind === 'key-by') fams = [e.family];
  else if (e.kind === 'release') fams = fams.filter((f) => !e.families.includes(f));
  familiesMemo.set(n, fams);
  return fams;
}

/**
 * Refuse, when the pipeline is built, a keyed stream where an operator pairs or gates values
 * across keys (zip, combineLatest, join's inputs, notifiers): which key's value arrives first
 * would decide another key's output, a flow between keys that per-key labels cannot carry.
 */
export function requireUnkeyed(
  kind: string,
  inputs: readonly { readonly stream: Stream<unknown>; readonly role: string }[],
): void {
  for (const { stream, role } of inputs) {
    const fams = familiesOf(stream.node);
    if (fams.length > 0) {
      throw new ConfigError(
        `${kind}: its ${role} is keyed (per-key tags of family '${(fams[0] as KeyFamily).name}'); ` +
          `${kind} cannot pair or gate values across keys: declassify the per-key tags first, ` +
          `or apply ${kind} before keyBy`,
      );
    }
  }
}
