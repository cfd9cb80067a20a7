import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowViolationError, InsufficientPrivilegeError } from '../errors.js';
import { Label } from '../labels.js';
import { Engine } from './engine.js';
import type { EventView } from './event.js';

describe('Engine', () => {
  it('delivers to a subscriber only the parts it may see, hidden parts read as absent', async () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const secret = Label.secrecy(alice.tag);
    const seen: EventView[] = [];
    engine.unit({ name: 'public-reader' }, (ctx) => {
      ctx.subscribe('quotes', (ev) => seen.push(ev));
    });
    const feed = engine.unit({ name: 'feed' });
    feed.publish('quotes', feed.event().add('symbol', 'ACME').add('price', 12, secret));
    await engine.idle();
    assert.equal(seen.length, 1);
    const ev = seen[0]!;
    assert.equal(ev.get('symbol'), 'ACME');
    assert.equal(ev.get('price'), undefined);
    assert.equal(ev.get('price'), ev.get('no-such-part'));
    assert.equal(ev.has('price'), false);
    assert.deepEqual(ev.names(), ['symbol']);
    assert.deepEqual(ev.toJSON(), { symbol: 'ACME' });
  });

  it('refuses a write below the unit label with FlowViolationError and audits it', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const ctx = engine.unit({ name: 'u', label: Label.secrecy(alice.tag) });
    assert.throws(() => ctx.event().add('x', 1, Label.public), FlowViolationError);
    assert.equal(engine.audit.counts()['refused-write'], 1);
  });

  it('changes a label only with privileges', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const s = Label.secrecy(alice.tag);
    const weak = engine.unit({ name: 'weak' });
    assert.throws(() => {
      weak.changeLabel(s);
    }, InsufficientPrivilegeError);
    const strong = engine.unit({ name: 'strong', privileges: [alice.plus] });
    strong.changeLabel(s);
    assert.equal(strong.label, s);
  });
});
