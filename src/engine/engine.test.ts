import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  FlowViolationError,
  InsufficientPrivilegeError,
  OverloadError,
} from '../errors.js';
import { Label } from '../labels.js';
import { Engine } from './engine.js';
import type { EventView } from './event.js';
import type { SinkRecord } from './sink.js';

function setup() {
  const engine = new Engine();
  const alice = engine.createTag('alice');
  const bob = engine.createTag('bob');
  return { engine, alice, bob, A: Label.secrecy(alice.tag), B: Label.secrecy(bob.tag) };
}

describe('Engine: reading', () => {
  it('delivers to a subscriber only the parts it may see; hidden parts read as absent', async () => {
    const { engine, A } = setup();
    const seen: EventView[] = [];
    engine.unit({ name: 'public-reader' }, (ctx) => {
      ctx.subscribe('quotes', (ev) => seen.push(ev));
    });
    const feed = engine.unit({ name: 'feed' });
    feed.publish('quotes', feed.event().add('symbol', 'ACME').add('price', 12, A));
    await engine.idle();
    assert.equal(seen.length, 1);
    const ev = seen[0]!;
    assert.equal(ev.get('symbol'), 'ACME');
    assert.equal(ev.get('price'), undefined);
    assert.equal(ev.has('price'), false);
    assert.equal(ev.labelOf('price'), undefined);
    assert.deepEqual(ev.names(), ['symbol']);
    assert.deepEqual(ev.getAll('price'), []);
    assert.deepEqual(ev.toJSON(), { symbol: 'ACME' });
    assert.equal(ev.topic, 'quotes');
    assert.equal(ev.presence, Label.public);
  });

  it('does not deliver an event whose presence does not flow to the subscriber', () => {
    const { engine, A } = setup();
    const got: string[] = [];
    engine.unit({ name: 'low' }, (ctx) => ctx.subscribe('t', () => got.push('low')));
    engine.unit({ name: 'high', label: A }, (ctx) => ctx.subscribe('t', () => got.push('high')));
    const src = engine.unit({ name: 'src', label: A });
    src.publish('t', src.event().add('x', 1));
    engine.flush();
    assert.deepEqual(got, ['high']);
  });

  it('runs the filter over visible parts only', () => {
    const { engine, A } = setup();
    const seen: unknown[] = [];
    engine.unit({ name: 'r' }, (ctx) =>
      ctx.subscribe('t', (ev) => seen.push(ev.get('n')), {
        filter: (ev) => ev.get('secret') === undefined && (ev.get('n') as number) > 1,
      }),
    );
    const src = engine.unit({ name: 'src' });
    for (const n of [1, 2, 3]) src.publish('t', src.event().add('n', n).add('secret', n, A));
    engine.flush();
    assert.deepEqual(seen, [2, 3]);
  });

  it('newest visible part wins a name; getAll lists visible ones oldest first', () => {
    const { engine, A } = setup();
    const views: EventView[] = [];
    engine.unit({ name: 'r', label: A }, (ctx) => ctx.subscribe('t', (ev) => views.push(ev)));
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('v', 1).add('v', 2, A));
    engine.flush();
    const view = views[0]!;
    assert.equal(view.get('v'), 2);
    assert.equal(view.labelOf('v'), A);
    assert.deepEqual(view.getAll('v'), [1, 2]);
  });
});

describe('Engine: writing and labels', () => {
  it('refuses a write below the unit label with FlowViolationError and audits it', () => {
    const { engine, A } = setup();
    const ctx = engine.unit({ name: 'u', label: A });
    assert.throws(() => ctx.event().add('x', 1, Label.public), FlowViolationError);
    assert.equal(engine.audit.counts()['refused-write'], 1);
  });

  it('lets a unit with t- write below its label (declassify)', () => {
    const { engine, alice, A } = setup();
    const ctx = engine.unit({ name: 'u', label: A, privileges: [alice.minus] });
    const seen: unknown[] = [];
    engine.unit({ name: 'pub' }, (c) => c.subscribe('out', (ev) => seen.push(ev.get('x'))));
    ctx.publish('out', ctx.event().add('x', 7, Label.public), { presence: Label.public });
    engine.flush();
    assert.deepEqual(seen, [7]);
  });

  it('refuses publishing at a lower presence without privilege, and nothing is delivered', () => {
    const { engine, A } = setup();
    const seen: unknown[] = [];
    engine.unit({ name: 'pub' }, (c) => c.subscribe('out', (ev) => seen.push(ev.get('x'))));
    const ctx = engine.unit({ name: 'u', label: A });
    const ev = ctx.event().add('x', 1);
    assert.throws(() => ctx.publish('out', ev, { presence: Label.public }), FlowViolationError);
    engine.flush();
    assert.deepEqual(seen, []);
    assert.equal(engine.audit.counts()['refused-publish'], 1);
  });

  it('changes a label only with privileges, and audits both outcomes', () => {
    const { engine, alice, A } = setup();
    const weak = engine.unit({ name: 'weak' });
    assert.throws(() => weak.changeLabel(A), InsufficientPrivilegeError);
    const strong = engine.unit({ name: 'strong', privileges: [alice.plus] });
    strong.changeLabel(A);
    assert.equal(strong.label, A);
    assert.throws(() => strong.changeLabel(Label.public), InsufficientPrivilegeError);
    const counts = engine.audit.counts();
    assert.equal(counts['refused-label-change'], 2);
    assert.equal(counts['label-change'], 1);
  });

  it('re-checks the subscriber label at dispatch: a unit that lowered its label gets no queued secret', () => {
    const { engine, alice, A } = setup();
    const got: unknown[] = [];
    let ctxRef: { changeLabel(l: Label): void } | undefined;
    engine.unit({ name: 'r', label: A, privileges: [alice.minus] }, (ctx) => {
      ctxRef = ctx;
      // Re-entrant publish to itself: the second delivery is queued, then the label drops.
      ctx.subscribe('t', (ev) => {
        got.push(ev.get('n'));
        if (ev.get('n') === 1) {
          ctx.publish('t', ctx.event().add('n', 2));
          ctx.changeLabel(Label.public);
        }
      });
    });
    const src = engine.unit({ name: 'src', label: A });
    src.publish('t', src.event().add('n', 1));
    engine.flush();
    assert.ok(ctxRef);
    assert.deepEqual(got, [1]);
  });
});

describe('Engine: privileges', () => {
  it('a unit holding t+auth grants t+; the grantee may then raise its label; audited', () => {
    const { engine, alice, A } = setup();
    const boss = engine.unit({ name: 'boss', privileges: [alice.plusAuth] });
    const worker = engine.unit({ name: 'worker' });
    assert.throws(() => worker.changeLabel(A), InsufficientPrivilegeError);
    boss.grant('worker', alice.tag, 'plus');
    worker.changeLabel(A);
    assert.equal(worker.label, A);
    assert.ok(worker.privileges.some((p) => p.endsWith('+')));
    assert.equal(engine.audit.counts().grant, 1);
  });

  it('refuses a grant without the auth, and a grant to an unknown unit', () => {
    const { engine, alice } = setup();
    const u = engine.unit({ name: 'u', privileges: [alice.plus] });
    engine.unit({ name: 'v' });
    assert.throws(() => u.grant('v', alice.tag, 'plus'), InsufficientPrivilegeError);
    assert.throws(() => u.grant('nobody', alice.tag, 'plus'), /no unit 'nobody'/);
    assert.equal(engine.audit.counts()['refused-grant'], 1);
  });

  it('a unit that creates a tag holds all four privileges on it', () => {
    const { engine } = setup();
    const u = engine.unit({ name: 'u' });
    const t = u.createTag('mine');
    assert.equal(u.privileges.length, 4);
    u.changeLabel(Label.secrecy(t));
    u.changeLabel(Label.public);
    engine.unit({ name: 'v' });
    u.grant('v', t, 'minus-auth');
  });
});

describe('Engine: events', () => {
  it('derive forwards parts the deriver cannot see, unopened, to readers who can', () => {
    const { engine, A } = setup();
    const fwdSaw: unknown[] = [];
    const highSaw: unknown[] = [];
    engine.unit({ name: 'fwd' }, (ctx) =>
      ctx.subscribe('in', (ev) => {
        fwdSaw.push(ev.toJSON());
        ctx.publish('out', ctx.derive(ev).add('note', 'seen'));
      }),
    );
    engine.unit({ name: 'high', label: A }, (ctx) =>
      ctx.subscribe('out', (ev) => highSaw.push(ev.toJSON())),
    );
    const src = engine.unit({ name: 'src' });
    src.publish('in', src.event().add('id', 1).add('salary', 100, A));
    engine.flush();
    assert.deepEqual(fwdSaw, [{ id: 1 }]);
    assert.deepEqual(highSaw, [{ id: 1, salary: 100, note: 'seen' }]);
  });

  it('a published event cannot change or be published again', () => {
    const { engine } = setup();
    const u = engine.unit({ name: 'u' });
    const ev = u.event().add('x', 1);
    u.publish('t', ev);
    assert.throws(() => ev.add('y', 2), /cannot change after it is published/);
    assert.throws(() => u.publish('t', ev), /open event created by this unit/);
    const other = engine.unit({ name: 'other' });
    assert.throws(
      () => other.publish('t', u.event().add('z', 1)),
      /open event created by this unit/,
    );
  });

  it('received values are deeply frozen; mutating throws and others are unaffected', () => {
    const { engine } = setup();
    const seen: unknown[] = [];
    engine.unit({ name: 'vandal' }, (ctx) =>
      ctx.subscribe('t', (ev) => {
        (ev.get('o') as { a: number[] }).a.push(4);
      }),
    );
    engine.unit({ name: 'reader' }, (ctx) => ctx.subscribe('t', (ev) => seen.push(ev.get('o'))));
    const src = engine.unit({ name: 'src' });
    const original = { a: [1, 2, 3] };
    src.publish('t', src.event().add('o', original));
    engine.flush();
    assert.deepEqual(seen, [{ a: [1, 2, 3] }]);
    assert.equal(engine.audit.counts()['unit-error'], 1);
    original.a.push(9); // the caller's object stays its own
    assert.deepEqual(seen, [{ a: [1, 2, 3] }]);
  });
});

describe('Engine: dispatch', () => {
  it('preserves per-producer order through direct and queued paths', () => {
    const { engine } = setup();
    const got: number[] = [];
    engine.unit({ name: 'relay' }, (ctx) =>
      ctx.subscribe('in', (ev) => {
        // Publishing to a topic it also consumes forces the queued path for part of the stream.
        ctx.publish('mid', ctx.event().add('n', ev.get('n')));
      }),
    );
    engine.unit({ name: 'sinkish' }, (ctx) =>
      ctx.subscribe('mid', (ev) => {
        got.push(ev.get('n') as number);
      }),
    );
    engine.unit({ name: 'echo' }, (ctx) =>
      ctx.subscribe('mid', (ev) => {
        if ((ev.get('n') as number) % 3 === 0) ctx.publish('mid2', ctx.event().add('n', 0));
      }),
    );
    const src = engine.unit({ name: 'src' });
    for (let i = 0; i < 1000; i++) src.publish('in', src.event().add('n', i));
    engine.flush();
    assert.deepEqual(
      got,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it('a cycle goes through the queue in order without blowing the stack', () => {
    const { engine } = setup();
    const got: number[] = [];
    engine.unit({ name: 'loop' }, (ctx) =>
      ctx.subscribe('t', (ev) => {
        const n = ev.get('n') as number;
        got.push(n);
        if (n < 10_000) ctx.publish('t', ctx.event().add('n', n + 1));
      }),
    );
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('n', 0));
    engine.flush();
    assert.equal(got.length, 10_001);
    assert.ok(got.every((n, i) => n === i));
  });

  it('backpressure: publish returns false above the high-water mark, ready() resolves after drain, memory bounded', async () => {
    const engine = new Engine({ highWater: 64, batchSize: 16 });
    let processed = 0;
    let peak = 0;
    // A unit that re-publishes to a topic it consumes: every delivery after the first is queued.
    engine.unit({ name: 'slow' }, (ctx) =>
      ctx.subscribe('t', (ev) => {
        processed++;
        peak = Math.max(peak, engine.stats().queued);
        let x = 0;
        for (let i = 0; i < 2000; i++) x += Math.sqrt(i); // slow
        if (x > 0 && ev.get('fan') === true) ctx.publish('t', ctx.event().add('fan', false));
      }),
    );
    const src = engine.unit({ name: 'src' });
    let refusals = 0;
    const N = 2000;
    // Hold the subscriber busy so the source's events queue rather than run inline.
    for (let i = 0; i < N; i++) {
      const ok = src.publish('t', src.event().add('fan', true));
      if (!ok) {
        refusals++;
        await src.ready();
        assert.ok(engine.stats().queued <= 32, 'ready() resolved at or below the low-water mark');
      }
    }
    await engine.idle();
    assert.equal(processed, 2 * N);
    assert.ok(peak <= 64 + 1, `peak queue ${String(peak)} stays near the high-water mark`);
    assert.ok(refusals > 0, 'the source was held back at least once');
  });

  it('refuses a producer that ignores backpressure past the hard limit, losing nothing queued', () => {
    const engine = new Engine({ highWater: 8 }); // hard limit = 8 x highWater = 64
    let n = 0;
    engine.unit({ name: 'r' }, (ctx) =>
      ctx.subscribe('q', () => {
        // The first delivery re-publishes to its own topic: that one is queued (the unit is
        // busy), and from then on the subscription has pending deliveries, so everything the
        // source publishes queues behind it instead of running inline.
        if (n++ === 0) ctx.publish('q', ctx.event().add('i', -1));
      }),
    );
    const src = engine.unit({ name: 'src' });
    let accepted = 0;
    assert.throws(() => {
      for (let i = 0; i < 1000; i++) {
        src.publish('q', src.event().add('i', i));
        accepted++;
      }
    }, OverloadError);
    assert.equal(accepted, 64);
    assert.equal(engine.stats().queued, 64);
    engine.flush();
    assert.equal(n, accepted + 1, 'every accepted event (and the re-published one) was delivered');
  });

  it('validates its options', () => {
    assert.throws(() => new Engine({ highWater: 0 }), ConfigError);
    assert.throws(() => new Engine({ batchSize: 1.5 }), ConfigError);
  });
});

describe('Engine: sinks', () => {
  it('outputs to a sink only what may flow there', () => {
    const { engine, A } = setup();
    const records: SinkRecord[] = [];
    const publicSink = engine.sink('console', Label.public, (r) => records.push(r));
    const low = engine.unit({ name: 'low' });
    low.output(publicSink, low.event().add('x', 1).add('y', 2, A));
    assert.equal(records.length, 1);
    assert.deepEqual(
      records[0]!.parts.map((p) => [p.name, p.value]),
      [['x', 1]],
    );
    const high = engine.unit({ name: 'high', label: A });
    assert.throws(() => high.output(publicSink, high.event().add('x', 1)), FlowViolationError);
    assert.equal(records.length, 1, 'nothing delivered');
    assert.equal(engine.audit.counts()['refused-output'], 1);
  });

  it('refuses an output when a part the unit can see may not flow to the sink', () => {
    const { engine, alice, A } = setup();
    const records: SinkRecord[] = [];
    const publicSink = engine.sink('console', Label.public, (r) => records.push(r));
    // A unit at A that may declassify presence but outputs a part at A it can see.
    const u = engine.unit({ name: 'u', label: A, privileges: [alice.minus] });
    assert.throws(
      () => u.output(publicSink, u.event().add('secret', 1), { presence: Label.public }),
      FlowViolationError,
    );
    assert.equal(records.length, 0);
  });

  it('a throwing sink is audited and does not break the unit', () => {
    const { engine } = setup();
    const bad = engine.sink('bad', Label.public, () => {
      throw new Error('disk full');
    });
    const u = engine.unit({ name: 'u' });
    u.output(bad, u.event().add('x', 1));
    assert.equal(engine.audit.counts()['sink-error'], 1);
  });
});

describe('Engine: lifecycle and audit', () => {
  it('unsubscribe and close stop deliveries', () => {
    const { engine } = setup();
    const got: string[] = [];
    const a = engine.unit({ name: 'a' });
    const sub = a.subscribe('t', () => got.push('a'));
    const b = engine.unit({ name: 'b' });
    b.subscribe('t', () => got.push('b'));
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('x', 1));
    sub.unsubscribe();
    assert.equal(sub.active, false);
    src.publish('t', src.event().add('x', 2));
    b.close();
    src.publish('t', src.event().add('x', 3));
    engine.flush();
    assert.deepEqual(got, ['a', 'b', 'b']);
    assert.throws(() => b.publish('t', b.event().add('x', 1)), /closed/);
  });

  it('turning checks off is audited', () => {
    const engine = new Engine({ checks: false });
    assert.equal(engine.checks, false);
    assert.equal(engine.audit.counts()['checks-disabled'], 1);
  });

  it('records labels and operations but never values', () => {
    const { engine, A } = setup();
    const u = engine.unit({ name: 'u', label: A });
    assert.throws(() => u.event().add('x', 'TOP-SECRET-VALUE', Label.public));
    const text = JSON.stringify(engine.audit.entries());
    assert.ok(text.includes('refused-write'));
    assert.ok(!text.includes('TOP-SECRET-VALUE'));
  });
});

describe('Engine: publish fast path (topic cache, checks at seal)', () => {
  it('checks topic, then event, even after the unit has cached a topic', () => {
    const { engine } = setup();
    const got: unknown[] = [];
    engine.unit({ name: 'r' }, (ctx) => ctx.subscribe('t', (ev) => got.push(ev.get('x'))));
    const u = engine.unit({ name: 'u' });
    u.publish('t', u.event().add('x', 1)); // caches 't'
    for (const t of ['', 5, null, undefined, {}]) {
      assert.throws(() => u.publish(t as string, {} as never), /a topic is a non-empty string/);
    }
    const proxy = new Proxy(u.event(), {
      get: () => assert.fail('no trap may run'),
      has: () => assert.fail('no trap may run'),
      getPrototypeOf: () => assert.fail('no trap may run'),
    });
    for (const fake of [{}, null, 5, proxy]) {
      assert.throws(() => u.publish('t', fake as never), /publish takes an event from ctx.event/);
    }
    assert.deepEqual(got, [1]);
  });

  it('a publish refused for its topic leaves the event open: it can be published after', () => {
    const { engine } = setup();
    const got: unknown[] = [];
    engine.unit({ name: 'r' }, (ctx) => ctx.subscribe('t', (ev) => got.push(ev.get('x'))));
    const u = engine.unit({ name: 'u' });
    u.publish('t', u.event().add('x', 1));
    const e = u.event().add('x', 2);
    assert.throws(() => u.publish('', e), /a topic is a non-empty string/);
    u.publish('t', e.add('y', 3));
    assert.deepEqual(got, [1, 2]);
  });

  it('a closed unit is told about a bad topic first, then that it is closed', () => {
    const { engine } = setup();
    const u = engine.unit({ name: 'u' });
    u.publish('t', u.event());
    u.close();
    assert.throws(() => u.publish('', u.event()), /a topic is a non-empty string/);
    assert.throws(() => u.publish('t', u.event()), /this unit is closed/);
  });

  it('switching topics delivers each event to its own topic’s subscribers only', () => {
    const { engine } = setup();
    const got: string[] = [];
    for (const t of ['a', 'b']) {
      engine.unit({ name: `r-${t}` }, (ctx) =>
        ctx.subscribe(t, (ev) => got.push(`${t}${String(ev.get('i'))}`)),
      );
    }
    const u = engine.unit({ name: 'u' });
    for (let i = 0; i < 4; i++) u.publish(i % 2 === 0 ? 'a' : 'b', u.event().add('i', i));
    u.publish('nobody', u.event().add('i', 9));
    u.publish('a', u.event().add('i', 4));
    assert.deepEqual(got, ['a0', 'b1', 'a2', 'b3', 'a4']);
  });

  it('after a handler throws, the unit is not left busy: the next event is delivered at once', () => {
    const { engine } = setup();
    const got: number[] = [];
    let errors = 0;
    engine.unit(
      {
        name: 'r',
        onError: () => {
          errors++;
        },
      },
      (ctx) =>
        ctx.subscribe('t', (ev) => {
          got.push(ev.get('i') as number);
          if (ev.get('i') === 0) throw new Error('boom');
        }),
    );
    const u = engine.unit({ name: 'u' });
    u.publish('t', u.event().add('i', 0));
    u.publish('t', u.event().add('i', 1));
    // No flush: both were delivered synchronously, so nothing was queued behind a stuck unit.
    assert.deepEqual(got, [0, 1]);
    assert.equal(errors, 1);
    assert.equal(engine.stats().queued, 0);
  });
});
