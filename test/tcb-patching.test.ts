/**
 * Adversarial: unit code holds the public classes (Label, Privilege, the errors) and tries to
 * patch them, or to smuggle a prototype through a part value, to get around the trusted core.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Engine,
  FlowViolationError,
  InsufficientPrivilegeError,
  Label,
  Privilege,
  type EventView,
} from '../src/index.js';

describe('patching the trusted core from unit code', () => {
  it('cannot redirect Privilege getters to mint privileges on a victim tag', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const mallory = engine.unit({ name: 'mallory', label: Label.secrecy(alice.tag) });
    assert.throws(() => {
      Object.defineProperty(Privilege.prototype, 'tag', { get: () => alice.tag });
    }, TypeError);
    assert.throws(() => {
      Object.defineProperty(Privilege.prototype, 'kind', { get: () => 'minus' });
    }, TypeError);
    mallory.createTag('anything'); // the engine adds the new tag's privileges to mallory's set
    assert.throws(() => {
      mallory.changeLabel(Label.public);
    }, InsufficientPrivilegeError);
    assert.equal(mallory.label, Label.secrecy(alice.tag));
  });

  it('cannot make a label flow where it may not, on the instance or the prototype', () => {
    const engine = new Engine();
    const alice = engine.createTag('alice');
    const secret = Label.secrecy(alice.tag);
    const mallory = engine.unit({ name: 'mallory', label: secret });
    assert.throws(() => {
      Object.assign(secret, { flowsTo: () => true });
    }, TypeError);
    assert.throws(() => {
      Object.assign(Label.prototype, { flowsTo: () => true, join: () => Label.public });
    }, TypeError);
    assert.throws(() => {
      Object.assign(Label, { isLabel: () => true });
    }, TypeError);
    assert.throws(() => mallory.event().add('leak', 'secret', Label.public), FlowViolationError);
    assert.equal(engine.audit.counts()['refused-write'], 1);
  });

  it('cannot hide a refused write from the audit by patching instanceof', () => {
    assert.throws(() => {
      Object.defineProperty(FlowViolationError, Symbol.hasInstance, { value: () => false });
    }, TypeError);
  });

  it('a "__proto__" key in a part value arrives as data, not as a prototype', async () => {
    const engine = new Engine();
    const seen: unknown[] = [];
    engine.unit({ name: 'reader' }, (ctx) => {
      ctx.subscribe('in', (ev: EventView) => seen.push(ev.get('body')));
    });
    const feed = engine.unit({ name: 'feed' });
    const body: unknown = JSON.parse('{"__proto__": {"isAdmin": true}, "user": "m"}');
    feed.publish('in', feed.event().add('body', body));
    await engine.idle();
    assert.equal(seen.length, 1);
    const got = seen[0] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(got['isAdmin'], undefined);
    assert.deepEqual(Object.keys(got), ['__proto__', 'user']);
  });
});
