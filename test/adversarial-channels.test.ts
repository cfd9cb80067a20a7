/**
 * Adversarial: write-down channels other than parts. A unit that sees a secret tries to signal
 * it to a lower unit, or to whoever reads errors and the audit log: through grants, the
 * backpressure signal, error messages of refused operations and audit entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label, SluiceError, type EventView } from '../src/index.js';

const SECRET = 'S3CR3T-e9d1b4-value';

describe('adversarial: grants as a channel', () => {
  it('a high unit cannot grant to a lower unit (the grant would be a write-down)', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const bob = engine.createTag('bob');
    const secret = Label.secrecy(alice.tag);
    const high = engine.unit({ name: 'high', label: secret, privileges: bob.all });
    const low = engine.unit({ name: 'low' });
    assert.throws(
      () => {
        high.grant('low', bob.tag, 'plus');
      },
      { code: 'E_FLOW' },
    );
    assert.deepEqual(low.privileges, []);
    assert.equal(engine.audit.counts()['refused-grant'], 1);
    // Granting upward (or sideways at the same label) is fine.
    const peer = engine.unit({ name: 'peer', label: secret });
    const low2 = engine.unit({ name: 'low2', privileges: bob.all });
    low2.grant('peer', bob.tag, 'minus');
    high.grant('peer', bob.tag, 'plus');
    assert.deepEqual(peer.privileges.sort(), [`${bob.tag.toString()}+`, `${bob.tag.toString()}-`]);
  });

  it('a high unit holding t- for its secrecy tag may grant downward (it could declassify)', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const bob = engine.createTag('bob');
    const high = engine.unit({
      name: 'high',
      label: Label.secrecy(alice.tag),
      privileges: [alice.minus, bob.plusAuth],
    });
    const low = engine.unit({ name: 'low' });
    high.grant('low', bob.tag, 'plus');
    assert.deepEqual(low.privileges, [`${bob.tag.toString()}+`]);
  });

  it('whether a low unit gains a privilege never depends on a secret it cannot see', () => {
    for (const bit of [0, 1]) {
      const engine = new Engine();
      const alice = engine.createTag('alice');
      const bob = engine.createTag('bob');
      const secret = Label.secrecy(alice.tag);
      engine.unit({ name: 'high', label: secret, privileges: bob.all }, (ctx) => {
        ctx.subscribe('t', (ev) => {
          if (ev.get('bit') === 1) ctx.grant('low', bob.tag, 'plus');
        });
      });
      const low = engine.unit({ name: 'low' });
      const src = engine.unit({ name: 'src' });
      src.publish('t', src.event().add('bit', bit, secret));
      engine.flush();
      assert.deepEqual(low.privileges, [], `bit ${bit}`);
    }
  });
});

describe('adversarial: backpressure as a channel', () => {
  it('publish() inside a handler returns the same whatever secret work is queued', () => {
    const seen: boolean[][] = [];
    for (const n of [0, 50]) {
      const engine = new Engine({ highWater: 2 });
      const alice = engine.createTag('alice');
      const secret = Label.secrecy(alice.tag);
      engine.unit({ name: 'high', label: secret }, (ctx) => {
        ctx.subscribe('in', (ev) => {
          const k = ev.get('secret') as number;
          for (let i = 0; i < k; i++) ctx.publish('high-out', ctx.event().add('i', i));
        });
      });
      let highGot = 0;
      engine.unit({ name: 'high-sink', label: secret }, (ctx) =>
        ctx.subscribe('high-out', () => highGot++),
      );
      const rets: boolean[] = [];
      let lowGot = 0;
      engine.unit({ name: 'low' }, (ctx) => {
        ctx.subscribe('in', () => {
          for (let i = 0; i < 3; i++) rets.push(ctx.publish('low-out', ctx.event().add('i', i)));
        });
      });
      engine.unit({ name: 'low-sink' }, (ctx) => ctx.subscribe('low-out', () => lowGot++));
      const src = engine.unit({ name: 'src' });
      src.publish('in', src.event().add('secret', n, secret));
      engine.flush();
      assert.equal(highGot, n);
      assert.equal(lowGot, 3);
      seen.push(rets);
    }
    assert.deepEqual(seen[0], seen[1]);
  });

  it('a source outside dispatch still gets real backpressure', async () => {
    const engine = new Engine({ highWater: 4 });
    let first = true;
    // Dispatch is inline when it can be; the subscriber's first delivery re-publishes to its own
    // topic (queued: the unit is busy), so later deliveries queue behind it and the queue fills.
    engine.unit({ name: 'r' }, (ctx) =>
      ctx.subscribe('t', () => {
        if (first) ctx.publish('t', ctx.event().add('i', -1));
        first = false;
      }),
    );
    const src = engine.unit({ name: 'src' });
    const rets: boolean[] = [];
    for (let i = 0; i < 6; i++) rets.push(src.publish('t', src.event().add('i', i)));
    assert.deepEqual(rets, [true, true, true, false, false, false]);
    await src.ready();
    await engine.idle();
    assert.equal(engine.stats().delivered, 7);
  });
});

describe('adversarial: error messages and the audit log never carry a secret value', () => {
  it('refused writes, outputs, publishes, label changes and grants: no secret anywhere', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const bob = engine.createTag('bob');
    const secret = Label.secrecy(alice.tag);
    const messages: string[] = [];
    const bystander: unknown[] = [];
    const pub = engine.sink('pub', Label.public, () => undefined);
    const catchMsg = (f: () => unknown) => {
      try {
        f();
        messages.push('no error');
      } catch (e) {
        assert.ok(e instanceof SluiceError, String(e));
        assert.match(e.code, /^E_[A-Z_]+$/);
        messages.push(`${e.name}: ${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`);
      }
    };
    engine.unit({ name: 'high', label: secret, onError: (e) => messages.push(String(e)) }, (ctx) =>
      ctx.subscribe('t', (ev: EventView) => {
        const s = ev.get('secret') as string;
        catchMsg(() => ctx.event().add('w', s, Label.public));
        catchMsg(() => ctx.event().add('v', s, Label.public));
        catchMsg(() => ctx.event().add('v', { s, f: () => s }));
        catchMsg(() => {
          ctx.output(pub, ctx.event().add('v', s));
        });
        catchMsg(() => {
          ctx.output(pub, ctx.derive(ev));
        });
        catchMsg(() => ctx.publish('t2', ctx.event().add('v', s), { presence: Label.public }));
        catchMsg(() => {
          ctx.changeLabel(Label.public);
        });
        catchMsg(() => {
          ctx.grant('low', bob.tag, s as 'plus');
        });
        catchMsg(() => {
          ctx.grant('low', bob.tag, 'plus');
        });
        catchMsg(() => {
          ctx.grant('high', alice.tag, s as 'plus');
        });
        const published = ctx.event().add('v', s);
        ctx.publish('t2', published);
        catchMsg(() => ctx.publish('t2', published));
        catchMsg(() => published.add('more', s));
        throw new Error('handler failed');
      }),
    );
    engine.unit({ name: 'low' }, (ctx) => ctx.subscribe('t', (ev) => bystander.push(ev.toJSON())));
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('pub', 1).add('secret', SECRET, secret));
    engine.flush();
    assert.equal(messages.filter((m) => m === 'no error').length, 0, messages.join('\n'));
    assert.equal(messages.length, 13); // 12 refusals and the onError call
    for (const m of messages) {
      assert.ok(!m.includes(SECRET), m);
    }
    const audit = JSON.stringify(engine.audit.entries());
    assert.ok(!audit.includes(SECRET), audit);
    assert.ok(!audit.includes('S3C'), 'not even a prefix of it');
    const counts = engine.audit.counts();
    assert.equal(counts['refused-write'], 2);
    assert.equal(counts['refused-output'], 2);
    assert.equal(counts['refused-publish'], 1);
    assert.equal(counts['refused-label-change'], 1);
    assert.equal(counts['refused-grant'], 3);
    assert.equal(counts['unit-error'], 1);
    // The other subscriber received its event all the same.
    assert.deepEqual(bystander, [{ pub: 1 }]);
  });

  it('unit-error entries record that a handler threw, never what it threw', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const secret = Label.secrecy(alice.tag);
    const caught: unknown[] = [];
    engine.unit({ name: 'u', label: secret, onError: (e) => caught.push(e) }, (ctx) => {
      ctx.subscribe('t', (ev) => {
        throw new Error(`boom ${JSON.stringify(ev.get('secret'))}`);
      });
    });
    const src = engine.unit({ name: 'src' });
    src.publish('t', src.event().add('secret', SECRET, secret));
    engine.flush();
    assert.equal(caught.length, 1);
    assert.ok(!JSON.stringify(engine.audit.entries()).includes(SECRET));
    const entry = engine.audit.entries().find((e) => e.kind === 'unit-error');
    assert.deepEqual(
      { unit: entry?.unit, op: entry?.op },
      { unit: 'u', op: 'a handler or filter threw' },
    );
  });
});
