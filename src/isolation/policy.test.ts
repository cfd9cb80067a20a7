import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../index.js';
import { DEFAULT_POLICY, loadPolicy, matches, parsePolicy } from './policy.js';
import { probeValues } from './probes.js';

const quiet = probeValues(
  0,
  {
    events: 64,
    spanMs: 10,
    serviceMeanMs: 0.01,
    serviceSpreadMs: 0.001,
    serviceMaxMs: 0.1,
    outputs: 64,
    outputSpread: 0,
    errors: 0,
    notFound: 0,
  },
  0,
  0,
);

describe('isolation policy', () => {
  it('the default policy is valid, and fires on nothing for a quiet unit', () => {
    assert.ok(DEFAULT_POLICY.rules.length >= 7);
    for (const r of DEFAULT_POLICY.rules) assert.equal(matches(r.when, quiet), undefined, r.name);
    assert.equal(quiet.outputsPerSec, 6400);
  });

  it('errors name the bad field', () => {
    const bad = (raw: unknown, field: RegExp): void => {
      assert.throws(
        () => parsePolicy(raw),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, field);
          return true;
        },
      );
    };
    bad(
      { rules: [{ name: 'x', when: { cpuMsPerEvnt: { gt: 1 } }, then: 'kill' }] },
      /rules\[0\]\.when: .*cpuMsPerEvnt/,
    );
    bad(
      { rules: [{ name: 'x', when: { errors: { gt: 'a' } }, then: 'kill' }] },
      /rules\[0\]\.when\.errors\.gt/,
    );
    bad(
      { rules: [{ name: 'x', when: { errors: {} }, then: 'kill' }] },
      /rules\[0\]\.when\.errors: give at least one/,
    );
    bad(
      { rules: [{ name: 'x', when: {}, then: 'kill' }] },
      /rules\[0\]\.when: name at least one probe/,
    );
    bad(
      { rules: [{ name: 'x', when: { errors: { gt: 1 } }, then: { escalate: 4 } }] },
      /rules\[0\]\.then/,
    );
    bad(
      { rules: [{ name: 'x', when: { errors: { gt: 1 } }, then: { throttle: -1 } }] },
      /rules\[0\]\.then/,
    );
    bad({ rules: [{ name: '', when: { errors: { gt: 1 } }, then: 'kill' }] }, /rules\[0\]\.name/);
    bad(
      { rules: [{ name: 'x', when: { errors: { gt: 1 } }, then: 'kill', windows: 0 }] },
      /rules\[0\]\.windows/,
    );
    bad({ rule: [] }, /\(root\)|rules/);
  });

  it('matches: every comparison must hold; the probes that fired are named', () => {
    const when = { outputsPerEvent: { gte: 1, lt: 2 }, errors: { lte: 0 } };
    assert.deepEqual(matches(when, quiet), ['outputsPerEvent', 'errors']);
    assert.equal(matches({ outputsPerEvent: { gt: 1 } }, quiet), undefined);
    assert.equal(matches({ outputsPerEvent: { lt: 1 } }, quiet), undefined);
    assert.equal(matches({ errors: { gte: 1 } }, quiet), undefined);
    assert.equal(matches({ errors: { lte: -1 } }, quiet), undefined);
  });

  it('probe values from a guest are sanitised: lies only make a unit look worse or zero', () => {
    const v = probeValues(
      1,
      {
        events: 0,
        spanMs: Number.NaN,
        serviceMeanMs: -5,
        serviceSpreadMs: Infinity,
        serviceMaxMs: 1,
        outputs: 3,
        outputSpread: 0,
        errors: 0,
        notFound: 2,
      },
      8 * 1024 * 1024,
      4 * 1024 * 1024,
    );
    assert.equal(v.events, 1);
    assert.equal(v.outputsPerSec, 0);
    assert.equal(v.cpuMsPerEvent, 0);
    assert.equal(v.serviceSpreadMs, 0);
    assert.equal(v.heapGrowthMb, 4);
    assert.equal(v.notFoundPerEvent, 2);
  });

  it('loadPolicy reads a JSON file, and says which file is bad', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-policy-'));
    const good = join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify({
        rules: [{ name: 'r', when: { errors: { gt: 3 } }, then: 'quarantine', windows: 2 }],
      }),
    );
    const p = await loadPolicy(good);
    assert.equal(p.rules[0]?.windows, 2);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ rules: ');
    await assert.rejects(loadPolicy(broken), /cannot read the isolation policy .*broken\.json: /);
    const wrong = join(dir, 'wrong.json');
    await writeFile(
      wrong,
      JSON.stringify({ rules: [{ name: 'r', when: { errors: { gt: 3 } }, then: 'explode' }] }),
    );
    await assert.rejects(loadPolicy(wrong), /wrong\.json is invalid:\n {2}rules\[0\]\.then/);
    await assert.rejects(loadPolicy(join(dir, 'missing.json')), ConfigError);
  });
});
