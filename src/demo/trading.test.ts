import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTrading } from './trading.js';

describe('trading demo', () => {
  it('keeps each trader’s orders and fills inside their labels; only prints go public', async () => {
    const r = await runTrading({ ticks: 500, seed: 1 });
    // The public snoop is delivered trade prints only: never an order or a fill.
    assert.deepEqual(r.seen.snoop?.parts.sort(), ['price', 'volume']);
    assert.equal(r.seen.snoop.events, r.prints);
    // Every order reached the exchange and the regulator; each of the regulator's leaks was refused.
    assert.equal(r.seen.exchange?.events, 2 * r.ticks);
    assert.equal(r.refusedRegulatorLeaks, 2 * r.ticks);
    assert.equal(r.audit['refused-output'], 2 * r.ticks);
    // One print per fill, each 10 lots.
    assert.equal(r.fills.alice + r.fills.bob, r.prints);
    assert.equal(r.printVolume, 10 * r.prints);
    // A strategy sees ticks and its own fills, never the other trader's order fields.
    assert.ok(!r.seen['alice-strategy']?.parts.includes('trader'));
  });

  it('is deterministic for a seed', async () => {
    const a = await runTrading({ ticks: 300, seed: 9 });
    const b = await runTrading({ ticks: 300, seed: 9 });
    assert.deepEqual(a, b);
  });
});
