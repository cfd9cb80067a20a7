import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../engine/engine.js';
import type { EventView } from '../../engine/event.js';
import { ConfigError, FlowViolationError } from '../../errors.js';
import { Label } from '../../labels.js';
import { map } from '../operators/map.js';
import { Pipeline } from '../pipeline.js';
import { toCallback } from '../sinks/to-callback.js';
import { toTopic } from '../sinks/to-topic.js';
import { fromTopic } from './from-topic.js';

function setup() {
  const engine = new Engine();
  const p = new Pipeline({ engine });
  const alice = p.tag('alice');
  const SECRET = Label.secrecy(alice.tag);
  const publisher = engine.unit({ name: 'publisher' });
  const publish = (topic: string, pub: number, sec: number) =>
    publisher.publish(topic, publisher.event().add('pub', pub).add('sec', sec, SECRET));
  return { engine, p, SECRET, publish };
}

describe('fromTopic', () => {
  it('emits the parts its label may see, as frozen objects, until the run is stopped', async () => {
    const { engine, p, SECRET, publish } = setup();
    const low: unknown[] = [];
    const high: unknown[] = [];
    p.output(
      fromTopic(engine, 'in', { name: 'low' }),
      toCallback((v) => low.push(v)),
    );
    p.output(
      fromTopic(engine, 'in', { label: SECRET, name: 'high' }),
      toCallback((v) => high.push(v), { label: SECRET }),
    );
    let completed = false;
    const q = new Pipeline({ engine });
    q.output(
      fromTopic(engine, 'other'),
      toCallback(() => {}, { onComplete: () => (completed = true) }),
    );
    const run = p.start();
    const run2 = q.start();
    await new Promise((r) => setImmediate(r));
    publish('in', 1, 10);
    publish('in', 2, 20);
    publish('unrelated', 3, 30);
    assert.deepEqual(low, [{ pub: 1 }, { pub: 2 }], 'a public unit never sees the secret part');
    assert.deepEqual(high, [
      { pub: 1, sec: 10 },
      { pub: 2, sec: 20 },
    ]);
    assert.ok(low.every((v) => Object.isFrozen(v)));
    assert.equal(completed, false, 'it never completes by itself');
    const units = engine.stats().units;
    run.stop();
    run2.stop();
    const report = await run.done;
    await run2.done;
    assert.equal(completed, true, 'a stop ends the stream');
    assert.deepEqual(report.failures, []);
    assert.equal(engine.stats().units, units - 3, 'its units are closed');
    publish('in', 4, 40);
    assert.equal(low.length, 2);
  });

  it('a secret subscription cannot feed a public sink: the check says so before anything runs', () => {
    const { engine, p, SECRET } = setup();
    p.output(
      fromTopic(engine, 'in', { label: SECRET, name: 'secret-in' }),
      toCallback(() => {}),
    );
    const report = p.check();
    assert.equal(report.ok, false);
    assert.match(report.violations[0]!.paths[0]!.path, /secret-in → /);
  });

  it('a duplicate unit name fails the source, clearly', async () => {
    const { engine, p } = setup();
    engine.unit({ name: 'taken' });
    p.output(
      fromTopic(engine, 'in', { name: 'taken' }),
      toCallback(() => {}),
    );
    const report = await p.run();
    assert.match((report.failures[0]?.error as Error).message, /'taken' already exists/);
  });

  it('rejects bad arguments at build time', () => {
    const { engine } = setup();
    assert.throws(() => fromTopic({} as never, 't'), ConfigError);
    assert.throws(() => fromTopic(engine, ''), ConfigError);
    assert.throws(() => fromTopic(engine, 't', { label: 'x' as never }), ConfigError);
  });
});

describe('toTopic', () => {
  it('publishes each admitted value as an event with one part `value` at the sink label', async () => {
    const { engine, p, SECRET } = setup();
    const seen = {
      low: [] as unknown[],
      high: [] as unknown[],
      labels: [] as (Label | undefined)[],
    };
    engine.unit({ name: 'low-reader' }, (u) =>
      u.subscribe('out', (v: EventView) => seen.low.push(v.toJSON())),
    );
    engine.unit({ name: 'high-reader', label: SECRET }, (u) =>
      u.subscribe('out', (v: EventView) => {
        seen.high.push(v.toJSON());
        seen.labels.push(v.labelOf('value'));
      }),
    );
    const { from } = await import('./from.js');
    p.output(from([1, 2]), toTopic(engine, 'out', { name: 'pub-out' }));
    p.output(
      from([{ n: 3 }], { label: SECRET }),
      toTopic(engine, 'out', { label: SECRET, name: 'sec-out' }),
    );
    const report = await p.run();
    await engine.idle();
    assert.deepEqual(report.failures, []);
    assert.deepEqual(
      seen.low,
      [{ value: 1 }, { value: 2 }],
      'public readers never see the secret event',
    );
    // The two sinks' runs interleave in no promised order: compare per value.
    const high = seen.high.map((v, i) => [JSON.stringify(v), seen.labels[i]] as const);
    high.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.deepEqual(high, [
      ['{"value":1}', Label.public],
      ['{"value":2}', Label.public],
      ['{"value":{"n":3}}', SECRET],
    ]);
  });

  it('a pipeline that publishes to a topic it subscribes to is rejected as a cycle', () => {
    const { engine, p } = setup();
    p.output(
      fromTopic(engine, 'loop', { name: 'in' }).pipe(map((v) => v, { name: 'copy' })),
      toTopic(engine, 'loop', { name: 'out' }),
    );
    const report = p.check();
    assert.equal(report.ok, false);
    assert.ok(report.cycle !== undefined);
    assert.ok(['in', 'copy', 'out'].every((n) => report.cycle?.includes(n)));
    assert.throws(
      () => p.start(),
      (e: unknown) => e instanceof FlowViolationError && /cycle/.test(e.message),
    );
  });

  it('different topics are no cycle: pipelines chain through the engine', async () => {
    const { engine, p, publish } = setup();
    const got: unknown[] = [];
    p.output(
      fromTopic(engine, 'raw').pipe(map((v) => (v as { pub: number }).pub * 10)),
      toTopic(engine, 'scaled'),
    );
    p.output(
      fromTopic(engine, 'scaled'),
      toCallback((v) => got.push(v)),
    );
    assert.equal(p.check().ok, true);
    const run = p.start();
    publish('raw', 4, 0);
    await engine.idle();
    run.stop();
    await run.done;
    assert.deepEqual(got, [{ value: 40 }]);
  });

  it('a value that cannot be a part fails the sink', async () => {
    const { engine, p } = setup();
    const { from } = await import('./from.js');
    p.output(from([() => 1]), toTopic(engine, 'out', { name: 'fn-out' }));
    const report = await p.run();
    assert.equal(report.failures[0]?.operator, 'fn-out');
  });

  it('tells the run it is busy while the engine queue is full, and delivers everything', async () => {
    const engine = new Engine({ highWater: 16 });
    const p = new Pipeline({ engine });
    let seen = 0;
    // The reader publishes the inputs from inside its own handler: while it is busy, what the
    // pipeline publishes to it is queued, and past 16 queued events publish() says "full".
    const reader = engine.unit({ name: 'reader' }, (u) => {
      u.subscribe('go', () => {
        for (let i = 0; i < 100; i++) u.publish('in', u.event().add('i', i));
      });
      u.subscribe('out', () => {
        seen++;
      });
    });
    p.output(fromTopic(engine, 'in'), toTopic(engine, 'out'));
    const run = p.start();
    const host = engine.unit({ name: 'host' });
    host.publish('go', host.event());
    await engine.idle();
    run.stop();
    const report = await run.done;
    assert.deepEqual(report.failures, []);
    assert.equal(seen, 100);
    reader.close();
  });

  it('rejects bad arguments at build time', () => {
    const { engine } = setup();
    assert.throws(() => toTopic(null as never, 't'), ConfigError);
    assert.throws(() => toTopic(engine, 3 as never), ConfigError);
    const fam = new Pipeline({ engine }).family('f');
    assert.throws(() => toTopic(engine, 't', { perKey: fam } as never), ConfigError);
  });
});
