/**
 * Trapeze's exfiltration attack against the faceted store, for every backend: a unit at a
 * secret label writes (and deletes, and compare-and-sets) one key per set bit of a random 64-bit
 * secret; a public unit then reads, scans, lists and counts every key. It must recover 0 bits:
 * its whole observation is the one it makes when the secret is 0.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import type { FacetedStore } from '../src/store.js';
import { closeAll, storeBackends } from './support/store-backends.js';

after(closeAll);

const engine = new Engine();
const SECRET = Label.secrecy(engine.createTag('secret').tag);

async function attack(s: FacetedStore, secret: bigint): Promise<unknown> {
  const pub = s.at(Label.public);
  const high = s.at(SECRET);
  // Public bait the secret unit will try to erase or flip.
  await pub.batch(
    Array.from({ length: 64 }, (_, i) => ({ type: 'put' as const, key: `probe/${i}`, value: 0 })),
  );
  for (let i = 0; i < 64; i++) {
    if (((secret >> BigInt(i)) & 1n) === 0n) continue;
    await high.put(`bit/${i}`, 1);
    await high.delete(`probe/${i}`);
    await high.compareAndSet(`probe/${i}`, undefined, 1);
  }
  // The public unit reads everything it can.
  const gets = [];
  for (let i = 0; i < 64; i++) gets.push(await pub.get(`bit/${i}`), await pub.get(`probe/${i}`));
  const pages = [];
  let cursor: string | undefined;
  do {
    const page = await pub.scan({ limit: 7, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    cursor = page.cursor;
  } while (cursor !== undefined);
  const keys = await pub.keys({ prefix: 'bit/', limit: 100 });
  const counts = [await pub.count(), await pub.count({ prefix: 'bit/' })];
  // Conditional writes at public see the public projection only.
  const cas = [];
  for (let i = 0; i < 64; i++) cas.push(await pub.compareAndSet(`bit/${i}`, undefined, 'mine'));
  return { gets, pages, keys, counts, cas };
}

function decode(observation: unknown): bigint {
  // The attacker's best decoder: a bit is set if its key shows up anywhere.
  const text = JSON.stringify(observation);
  let guess = 0n;
  for (let i = 0; i < 64; i++) if (text.includes(`"bit/${i}"`)) guess |= 1n << BigInt(i);
  return guess;
}

for (const be of storeBackends()) {
  describe(`store exfiltration (Trapeze): ${be.name}`, () => {
    it('a public reader recovers 0 of 64 secret bits', async () => {
      const baseline = await attack(await be.open(), 0n);
      for (let trial = 0; trial < 3; trial++) {
        const secret = randomBytes(8).readBigUInt64BE();
        const observed = await attack(await be.open(), secret);
        assert.deepEqual(
          observed,
          baseline,
          'the public observation does not depend on the secret',
        );
        assert.equal(decode(observed), 0n);
      }
    });
  });
}
