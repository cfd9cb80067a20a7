/**
 * Pipes between tier-1 guests (src/isolation/pipe.ts): a chain of worker units passing events
 * guest to guest gives the same outputs as through the host; the host checks the labels when
 * it wires a pipe (adversarial: a pipe down the lattice, per-part labels on a piped topic, a
 * producer forwarding everything it can read); killed ends and the watchdog still work.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, Engine, FlowViolationError, Label } from '../src/index.js';
import { isolatedUnit, pipe, type IsolatedUnit, type Tier } from '../src/isolation.js';
import { settle } from './support/isolation.js';

const SMALL = { batchSize: 16, maxInFlight: 2, heartbeatMs: 300 };

/** a → b → c, each adding one to `x` and keeping the other parts; outputs on 'out'. */
async function chain(
  engine: Engine,
  label: Label,
  tier: Tier,
): Promise<[IsolatedUnit, IsolatedUnit, IsolatedUnit]> {
  const hop = (from: string, to: string): string =>
    `unit.subscribe('${from}', (ev) => unit.publish('${to}', { ...ev.parts, x: ev.get('x') + 1 }));`;
  const start = (name: string, from: string, to: string): Promise<IsolatedUnit> =>
    isolatedUnit(engine, { name, label, tier, source: hop(from, to), limits: SMALL });
  return [
    await start('a', 'in', 'ab'),
    await start('b', 'ab', 'bc'),
    await start('c', 'bc', 'out'),
  ];
}

async function runChain(piped: boolean): Promise<{ got: unknown[]; sent: number[] }> {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const A = Label.secrecy(alice.tag);
  const got: unknown[] = [];
  engine.unit({ name: 'sink', label: A }, (ctx) =>
    ctx.subscribe('out', (ev) => got.push(ev.toJSON())),
  );
  const units = await chain(engine, A, 1);
  const [a, b, c] = units;
  const pipes = piped ? [await pipe(a, 'ab', b), await pipe(b, 'bc', c)] : [];
  const src = engine.unit({ name: 'src', label: A });
  for (let i = 0; i < 300; i++) {
    const ev = src
      .event()
      .add('x', i)
      .add('s', `s${String(i % 7)}`);
    if (!src.publish('in', i % 3 === 0 ? ev.add('o', { deep: [i, null, true] }) : ev))
      await src.ready();
  }
  await settle(engine, units);
  for (const u of units) await u.stop();
  return { got, sent: pipes.flatMap((p) => [p.sent, p.handled]) };
}

describe('pipes between tier-1 units', () => {
  it('a piped chain gives the same outputs, in order, as the chain through the host; both ends count', async () => {
    const host = await runChain(false);
    const piped = await runChain(true);
    assert.equal(host.got.length, 300);
    assert.deepEqual(piped.got, host.got);
    assert.deepEqual(piped.sent, [300, 300, 300, 300]);
  });

  it('refuses a pipe down the lattice (secrecy or integrity), audited, and nothing crosses', async () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const trusted = engine.createTag('trusted');
    const A = Label.secrecy(alice.tag);
    const T = Label.of({ integrity: [trusted.tag] });
    const mk = (name: string, label: Label, from: string, to: string): Promise<IsolatedUnit> =>
      isolatedUnit(engine, {
        name,
        label,
        tier: 1,
        source: `unit.subscribe('${from}', (ev) => unit.publish('${to}', { v: ev.get('v') }));`,
      });
    const secret = await mk('secret', A, 'in', 'leak');
    const pub = await mk('public', Label.public, 'leak', 'out');
    const endorsed = await mk('endorsed', T, 'leak', 'out');
    const got: unknown[] = [];
    engine.unit({ name: 'watch' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
    await assert.rejects(pipe(secret, 'leak', pub), FlowViolationError);
    // Integrity cannot be raised by a pipe either: public data is not endorsed by passing through.
    const up = await mk('up', Label.public, 'in', 'leak');
    await assert.rejects(pipe(up, 'leak', endorsed), FlowViolationError);
    const refused = engine.audit.entries().filter((e) => e.kind === 'refused-flow');
    assert.equal(refused.length, 2);
    const src = engine.unit({ name: 'src', label: A });
    src.publish('in', src.event().add('v', 'secret value'));
    await settle(engine, [secret, pub, endorsed, up]);
    assert.deepEqual(got, [], 'the secret never reached the public unit');
    for (const u of [secret, pub, endorsed, up]) await u.stop();
  });

  it('a pipe carries only parts at the producer label: asking for part labels on it throws in the guest', async () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const bob = engine.createTag('bob');
    const A = Label.secrecy(alice.tag);
    const AB = Label.secrecy(alice.tag, bob.tag);
    const producer = await isolatedUnit(engine, {
      name: 'p',
      label: A,
      tier: 1,
      tags: { alice: alice.tag, bob: bob.tag },
      source: `unit.subscribe('in', (ev) => {
        unit.publish('x', { v: ev.get('v') }, { v: { secrecy: ['alice', 'bob'] } });
        unit.publish('x', { plain: ev.get('v') });
        unit.publish('y', { v: ev.get('v') }, { v: { secrecy: ['alice', 'bob'] } });
      });`,
    });
    const consumer = await isolatedUnit(engine, {
      name: 'q',
      label: A,
      tier: 1,
      source: `unit.subscribe('x', (ev) => unit.publish('out', { names: Object.keys(ev.parts) }));`,
    });
    const got: unknown[] = [];
    engine.unit({ name: 'sink', label: A }, (ctx) =>
      ctx.subscribe('out', (ev) => got.push(ev.toJSON())),
    );
    const ys: unknown[] = [];
    engine.unit({ name: 'ys', label: AB }, (ctx) =>
      ctx.subscribe('y', (ev) => ys.push([ev.get('v'), ev.labelOf('v')?.toString()])),
    );
    await pipe(producer, 'x', consumer);
    const src = engine.unit({ name: 'src', label: A });
    src.publish('in', src.event().add('v', 1));
    await settle(engine, [producer, consumer]);
    // The handler threw at its first publish: nothing after it ran, nothing crossed.
    assert.deepEqual(got, []);
    assert.deepEqual(ys, []);
    assert.equal(
      engine.audit.entries().filter((e) => e.unit === 'p' && e.op === 'an isolated handler threw')
        .length,
      1,
    );
    await producer.stop();
    await consumer.stop();
  });

  it('a producer forwarding all it reads passes on only what the host let it see', async () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const bob = engine.createTag('bob');
    const A = Label.secrecy(alice.tag);
    const AB = Label.secrecy(alice.tag, bob.tag);
    const fwd = await isolatedUnit(engine, {
      name: 'fwd',
      label: A,
      tier: 1,
      source: `unit.subscribe('in', (ev) => unit.publish('mid', { ...ev.parts, guess: ev.get('bobs') ?? 'none' }));`,
    });
    const high = await isolatedUnit(engine, {
      name: 'high',
      label: AB,
      tier: 1,
      source: `unit.subscribe('mid', (ev) => unit.publish('out', ev.parts));`,
    });
    const got: unknown[] = [];
    engine.unit({ name: 'sink', label: AB }, (ctx) =>
      ctx.subscribe('out', (ev) => got.push(ev.toJSON())),
    );
    await pipe(fwd, 'mid', high);
    const src = engine.unit({ name: 'src', label: A, privileges: [bob.plus] });
    src.publish('in', src.event().add('a', 1).add('bobs', 'secret', AB));
    await settle(engine, [fwd, high]);
    assert.deepEqual(got, [{ a: 1, guess: 'none' }]);
    await fwd.stop();
    await high.stop();
  });

  it('a consumer that loops forever on piped events is killed by the watchdog; its producer goes on through the host', async () => {
    const engine = new Engine();
    const producer = await isolatedUnit(engine, {
      name: 'p',
      tier: 1,
      source: `unit.subscribe('in', (ev) => unit.publish('x', { v: ev.get('v') }));`,
    });
    const stuck = await isolatedUnit(engine, {
      name: 'stuck',
      tier: 1,
      limits: { heartbeatMs: 200 },
      source: `unit.subscribe('x', (ev) => { if (ev.get('v') === 2) for (;;) {} });`,
    });
    const after: unknown[] = [];
    engine.unit({ name: 'late' }, (ctx) => ctx.subscribe('x', (ev) => after.push(ev.get('v'))));
    const p = await pipe(producer, 'x', stuck);
    const src = engine.unit({ name: 'src' });
    for (let v = 1; v <= 3; v++) src.publish('in', src.event().add('v', v));
    await settle(engine, [producer, stuck]);
    assert.equal(stuck.ended, 'cpu');
    assert.equal(p.sent, 3);
    assert.ok(p.handled < 3);
    // The consumer gone, the producer's publishes on the topic go to the host again.
    src.publish('in', src.event().add('v', 4));
    await settle(engine, [producer]);
    await new Promise((r) => setTimeout(r, 50));
    await settle(engine, [producer]);
    // `late` never saw 1–3 (the pipe made the topic the two units' own), and sees 4.
    assert.deepEqual(after, [4]);
    await producer.stop();
  });

  it('pipe takes two running tier-1 units of one engine, the consumer subscribed to the topic', async () => {
    const engine = new Engine();
    const src = (tier: Tier, name: string): Promise<IsolatedUnit> =>
      isolatedUnit(engine, { name, tier, source: `unit.subscribe('t', () => {});` });
    const one = await src(1, 'one');
    const two = await src(1, 'two');
    const zero = await src(0, 'zero');
    await assert.rejects(pipe(one, 't', zero), ConfigError);
    await assert.rejects(pipe(zero, 't', one), ConfigError);
    await assert.rejects(pipe(one, 't', one), ConfigError);
    await assert.rejects(pipe(one, 'other', two), ConfigError);
    await pipe(one, 't', two);
    await assert.rejects(pipe(one, 't', two), ConfigError);
    await two.stop();
    const three = await src(1, 'three');
    await assert.rejects(pipe(three, 't', two), ConfigError);
    const other = await isolatedUnit(new Engine(), {
      name: 'x',
      tier: 1,
      source: `unit.subscribe('t', () => {});`,
    });
    await assert.rejects(pipe(three, 't', other), ConfigError);
    for (const u of [one, three, zero, other]) await u.stop();
  });
});
