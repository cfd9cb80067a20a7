/**
 * `npm run bench -- label`: ns per flow check (⊑), join (⊔) and privilege-covered write check,
 * over a mix of realistic labels (0-3 secrecy tags, 0-2 integrity tags).
 */
import { Label, canWrite, createTagTCB, PrivilegeSet, type Tag } from '../src/tcb/index.js';
import { machine, median, sig, timeNs } from './stats.js';

const N = 5_000_000;
const ROUNDS = 7;

function pick<T>(xs: readonly T[], i: number): T {
  return xs[i % xs.length] as T;
}

export function main(): Promise<void> {
  const made = Array.from({ length: 8 }, (_, i) => createTagTCB(`t${String(i)}`));
  const tags: Tag[] = made.map((m) => m.tag);
  let seed = 7;
  // mulberry32: a small, well-mixed PRNG so the label mix is reproducible.
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const labels: Label[] = [];
  for (let i = 0; i < 64; i++) {
    const s = Array.from({ length: rnd() % 4 }, () => pick(tags, rnd()));
    const ii = Array.from({ length: rnd() % 3 }, () => pick(tags, rnd()));
    labels.push(Label.of({ secrecy: s, integrity: ii }));
  }
  // Pairs as two parallel arrays so the loop does no allocation.
  const PAIRS = 4096;
  const as: Label[] = [];
  const bs: Label[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = pick(labels, rnd());
    as.push(a);
    bs.push(rnd() % 2 === 0 ? a.join(pick(labels, rnd())) : pick(labels, rnd()));
  }
  const privs = PrivilegeSet.from(made.slice(0, 4).flatMap((m) => m.privileges));
  const mask = PAIRS - 1;

  let sink = 0;
  const flow = () => {
    for (let i = 0; i < N; i++) if ((as[i & mask] as Label).flowsTo(bs[i & mask] as Label)) sink++;
  };
  const join = () => {
    for (let i = 0; i < N; i++)
      if ((as[i & mask] as Label).join(bs[i & mask] as Label) === as[0]) sink++;
  };
  const priv = () => {
    for (let i = 0; i < N; i++)
      if (canWrite(bs[i & mask] as Label, privs, as[i & mask] as Label)) sink++;
  };
  const empty = () => {
    for (let i = 0; i < N; i++) if (as[i & mask] === bs[i & mask]) sink++;
  };
  const flowNs: number[] = [];
  const joinNs: number[] = [];
  const privNs: number[] = [];
  const loopNs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    loopNs.push(timeNs(empty) / N);
    flowNs.push(timeNs(flow) / N);
    joinNs.push(timeNs(join) / N);
    privNs.push(timeNs(priv) / N);
  }
  const flows = as.filter((a, i) => a.flowsTo(bs[i] as Label)).length;
  console.log(`label bench: ${machine()}; ${String(N)} ops x ${String(ROUNDS)} rounds, median`);
  console.log(
    `  pairs that flow: ${String(flows)}/${String(PAIRS)}; labels: ${String(labels.length)}`,
  );
  console.log(`  loop overhead (included below): ${sig(median(loopNs)).toString()} ns`);
  console.log(`  flow check  ${sig(median(flowNs)).toString()} ns/op`);
  console.log(`  join        ${sig(median(joinNs)).toString()} ns/op`);
  console.log(
    `  priv check  ${sig(median(privNs)).toString()} ns/op (canWrite with a privilege set)`,
  );
  console.log(`  (checksum ${String(sink % 1000)})`);
  console.log(
    JSON.stringify({
      bench: 'label',
      flow_check_ns: sig(median(flowNs)),
      join_ns: sig(median(joinNs)),
      priv_check_ns: sig(median(privNs)),
    }),
  );
  return Promise.resolve();
}
