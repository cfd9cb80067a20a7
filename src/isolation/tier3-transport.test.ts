import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../index.js';
import { managedUnit } from './managed-unit.js';
import {
  loopbackTransport,
  type RemoteTransport,
  type TransportFactory,
} from './tier3-transport.js';
import type { ManagedTier } from './unit-backend.js';

const SOURCE = `unit.subscribe('in', (ev) => {
  unit.state.set('n', (unit.state.get('n') ?? 0) + ev.parts.x);
  unit.publish('out', { n: unit.state.get('n'), t: Date.now(), r: Math.random() });
});`;

async function outputs(
  tier: ManagedTier,
  transport?: TransportFactory,
): Promise<{ got: unknown[]; ended: string | undefined }> {
  const engine = new Engine();
  const got: unknown[] = [];
  engine.unit({ name: 'c' }, (ctx) => ctx.subscribe('out', (ev) => got.push(ev.toJSON())));
  const u = await managedUnit(engine, {
    name: 'u',
    tier,
    source: SOURCE,
    deterministic: true,
    seed: 7,
    ...(transport === undefined ? {} : { transport }),
  });
  const src = engine.unit({ name: 's' });
  for (let i = 0; i < 100; i++) src.publish('in', src.event().add('x', i));
  for (let i = 0; i < 3; i++) await u.idle();
  const ended = u.ended;
  await u.stop();
  return { got, ended };
}

/** A transport that forwards to a loopback, and can misbehave on cue. */
function rogue(mode: 'garbage' | 'close'): TransportFactory {
  return () => {
    const inner = loopbackTransport();
    // Frames after the one that carried `ready`: the first of them is the one spoiled.
    let after = -1;
    const t: RemoteTransport = {
      sendBatch: (ms) => {
        inner.sendBatch(ms);
      },
      onReceiveBatch: (receive) => {
        inner.onReceiveBatch((ms) => {
          if (after >= 0) after++;
          if (after === 1 && mode === 'garbage') receive([{ k: 'out', id: 'x' }]);
          else if (after === 1) inner.close();
          else {
            if (ms.some((m) => (m as { k?: unknown }).k === 'ready')) after = 0;
            receive(ms);
          }
        });
      },
      onClose: (f) => {
        inner.onClose(f);
      },
      close: () => {
        inner.close();
      },
    };
    return t;
  };
}

describe('RemoteTransport', () => {
  it('the same protocol over a child process (tier 2) and a loopback (tier 3): the same outputs', async () => {
    const child = await outputs(2);
    const loop = await outputs(3, () => loopbackTransport());
    const inProcess = await outputs(0);
    assert.equal(child.got.length, 100);
    assert.deepEqual(loop.got, child.got);
    assert.deepEqual(inProcess.got, child.got);
  });

  it('a transport that delivers a malformed message ends the guest (protocol); one that closes ends it (exit)', async () => {
    const g = await outputs(3, rogue('garbage'));
    assert.equal(g.ended, 'protocol');
    const c = await outputs(3, rogue('close'));
    assert.equal(c.ended, 'exit');
  });
});
