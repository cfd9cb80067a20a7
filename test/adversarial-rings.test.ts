/**
 * Tier 1's rings in shared memory, against a hostile guest that writes to them directly (as
 * an escaped compartment could: test/support/hostile-ring-guest.ts): impossible positions, a
 * record longer than any, unknown tags, undefined names, more events acknowledged than sent,
 * garbage into a pipe. Each time the guest that broke the format is ended with 'protocol', the
 * host goes on, and a well-behaved tier-1 unit on the same engine receives every event, in
 * order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, Label, type EventView } from '../src/index.js';
import { isolatedUnit } from '../src/isolation.js';
import { limitsOf } from '../src/isolation/isolated-unit.js';
import { RemoteGuest, type EndReason } from '../src/isolation/remote-guest.js';
import { Wire } from '../src/isolation/wire.js';
import { settle } from './support/isolation.js';

const HOSTILE = new URL('./support/hostile-ring-guest.js', import.meta.url);
const ECHO = `unit.subscribe('t', (ev) => unit.publish('out', { i: ev.get('i') }));`;

interface Started {
  readonly remote: RemoteGuest;
  readonly ended: Promise<EndReason>;
}

async function start(source: string, entry?: URL): Promise<Started> {
  let ended: (why: EndReason) => void = () => undefined;
  const remote = new RemoteGuest(limitsOf({}), {
    output: () => undefined,
    errors: () => undefined,
    full: () => undefined,
    ended: (why) => {
      ended(why);
    },
  });
  const end = new Promise<EndReason>((r) => (ended = r));
  const subs = await remote.start(1, { source, deterministic: false, seed: 1 }, undefined, entry);
  assert.deepEqual(subs, ['t']);
  return { remote, ended: end };
}

/** An engine with a benign tier-1 echo unit and a host unit that hands every event on 't' to `remote`. */
async function world(remote: RemoteGuest) {
  const engine = new Engine();
  const A = Label.secrecy(engine.createTag('alice').tag);
  const benign = await isolatedUnit(engine, { name: 'benign', label: A, tier: 1, source: ECHO });
  const got: unknown[] = [];
  engine.unit({ name: 'sink', label: A }, (ctx) =>
    ctx.subscribe('out', (ev) => {
      got.push(ev.get('i'));
    }),
  );
  engine.unit({ name: 'feeder', label: A }, (ctx) =>
    ctx.subscribe('t', (view: EventView) => {
      remote.enqueue(0, view);
    }),
  );
  const src = engine.unit({ name: 'src', label: A });
  let sent = 0;
  const send = (n: number): void => {
    for (let k = 0; k < n; k++) src.publish('t', src.event().add('i', sent++));
  };
  return { engine, benign, got, send, sent: () => sent };
}

const MODES = [
  ['bad-position', 'a write position beyond the ring'],
  ['huge-length', 'a record longer than any'],
  ['bad-tag', 'a record of an unknown tag'],
  ['bad-name', 'a publish on a name never defined'],
  ['over-ack', 'more events acknowledged than were sent'],
  ['bad-read-position', "a read position in the host's ring beyond what the host wrote"],
] as const;

describe('tier-1 rings against a hostile guest', () => {
  for (const [mode, what] of MODES) {
    it(`${what}: the guest is ended with 'protocol'; the others get every event`, async () => {
      const { remote, ended } = await start(mode, HOSTILE);
      const w = await world(remote);
      let why: EndReason | undefined;
      void ended.then((r) => (why = r));
      // Keep events coming until the guest has broken the format and been ended.
      while (why === undefined) {
        w.send(10);
        await new Promise((r) => setTimeout(r, 2));
      }
      w.send(100);
      await settle(w.engine, [w.benign]);
      assert.equal(why, 'protocol');
      assert.equal(remote.ended, 'protocol');
      assert.equal(remote.backlog, 0);
      assert.deepEqual(
        w.got,
        Array.from({ length: w.sent() }, (_, i) => i),
      );
      await w.benign.stop();
    });
  }

  it("garbage written into a pipe ends its consumer with 'protocol' (never the producer, on the consumer's word)", async () => {
    const producer = await start('quiet-producer', HOSTILE);
    const consumer = await start(ECHO);
    const wire = new Wire(1, 'x');
    assert.ok(producer.remote.pipeTo(consumer.remote, wire, [0]));
    assert.equal(await consumer.ended, 'protocol');
    assert.equal(producer.remote.ended, undefined);
    // The producer's end of the pipe is closed: it no longer counts in anyone's backlog.
    assert.equal(wire.backlog, 0);
    const w = await world(producer.remote);
    w.send(50);
    await settle(w.engine, [w.benign]);
    assert.deepEqual(
      w.got,
      Array.from({ length: 50 }, (_, i) => i),
    );
    producer.remote.stop();
    await w.benign.stop();
  });
});
