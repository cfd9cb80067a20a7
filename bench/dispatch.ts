/**
 * `npm run bench -- dispatch`: events/s through a chain of 3 units (source → a → b → c), each
 * hop a new event with a labelled part, with label checks on vs the same chain with the checks
 * turned off, in the same process, alternating rounds; medians and their ratio.
 */
import { Engine, Label, type UnitContext } from '../src/index.js';
import { machine, median, sig, timeNsAsync } from './stats.js';

const N = 2_000_000;
const ROUNDS = 7;
/** With `node --expose-gc` (as `npm run bench` runs), collect between runs so one run's garbage
 * is not billed to the next. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function chain(checks: boolean): Promise<number> {
  gc();
  const engine = new Engine({ checks, highWater: 2048 });
  const alice = engine.createTag('alice');
  const bob = engine.createTag('bob');
  const audited = engine.createTag('audited');
  // Realistic labels: the source's data is alice's, endorsed; the chain runs at alice ⊔ bob.
  const srcLabel = Label.of({ secrecy: [alice.tag], integrity: [audited.tag] });
  const chainLabel = Label.of({ secrecy: [alice.tag, bob.tag] });
  let received = 0;
  let sum = 0;
  const hop = (name: string, from: string, to: string) => {
    engine.unit({ name, label: chainLabel }, (ctx: UnitContext) => {
      ctx.subscribe(from, (ev) => {
        ctx.publish(to, ctx.event().add('x', (ev.get('x') as number) + 1));
      });
    });
  };
  hop('a', 'in', 'ab');
  hop('b', 'ab', 'bc');
  engine.unit({ name: 'c', label: chainLabel }, (ctx) => {
    ctx.subscribe('bc', (ev) => {
      received++;
      sum += ev.get('x') as number;
    });
  });
  const src = engine.unit({ name: 'source', label: srcLabel });
  const ns = await timeNsAsync(async () => {
    for (let i = 0; i < N; i++) {
      if (!src.publish('in', src.event().add('x', i))) await src.ready();
    }
    await engine.idle();
  });
  if (received !== N || sum !== (N * (N - 1)) / 2 + 2 * N) {
    throw new Error(`chain lost events: received ${String(received)} of ${String(N)}`);
  }
  return (N / ns) * 1e9;
}

/**
 * `npm run bench -- dispatch --only on|off`: one mode per process. Running both modes in one
 * process makes the engine's hot functions polymorphic over both, which V8 optimises less well
 * than either alone; this variant shows the cost of the checks without that effect.
 */
async function only(checks: boolean): Promise<void> {
  await chain(checks);
  const runs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await chain(checks));
  const m = median(runs);
  console.log(`dispatch bench, labels ${checks ? 'on' : 'off'} only: ${machine()}`);
  console.log(`  median ${sig(m / 1e6).toString()} M ev/s over ${String(ROUNDS)} runs`);
  console.log(
    JSON.stringify({ bench: 'dispatch', mode: checks ? 'on' : 'off', eps: Math.round(m) }),
  );
}

export async function main(): Promise<void> {
  const at = process.argv.indexOf('--only');
  if (at >= 0) {
    const mode = process.argv[at + 1];
    if (mode !== 'on' && mode !== 'off') throw new Error('--only takes on or off');
    await only(mode === 'on');
    return;
  }
  const secure: number[] = [];
  const insecure: number[] = [];
  console.log(`dispatch bench: ${machine()}; ${String(N)} events x ${String(ROUNDS)} rounds`);
  await chain(true); // warm-up
  await chain(false);
  for (let r = 0; r < ROUNDS; r++) {
    secure.push(await chain(true));
    insecure.push(await chain(false));
    const s = secure.at(-1) as number;
    const i = insecure.at(-1) as number;
    console.log(
      `  round ${String(r + 1)}: labels on ${sig(s / 1e6).toString()} M ev/s, off ${sig(i / 1e6).toString()} M ev/s`,
    );
  }
  const s = median(secure);
  const i = median(insecure);
  console.log(
    `  median: labels on ${sig(s / 1e6).toString()} M ev/s, off ${sig(i / 1e6).toString()} M ev/s`,
  );
  console.log(`  overhead (off / on): ${sig(i / s).toString()}x`);
  console.log(
    JSON.stringify({
      bench: 'dispatch',
      secure_eps: Math.round(s),
      insecure_eps: Math.round(i),
      overhead: sig(i / s),
    }),
  );
}
