import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, map as rxMap, take, toArray } from 'rxjs';
import { FlowViolationError } from './errors.js';
import { Label } from './labels.js';
import { from, fromAsync, map, Pipeline, type OutputItem } from './operators.js';
import { toObservable } from './rxjs.js';

const p0 = new Pipeline();
const SECRET = Label.secrecy(p0.tag('alice').tag);

describe('sluice/rxjs toObservable', () => {
  it('emits { value, label } items that RxJS operators can use, then completes', async () => {
    const obs = toObservable(from([1, 2, 3]).pipe(map((x) => x + 1)));
    const values = await lastValueFrom(
      obs.pipe(
        rxMap((i: OutputItem<number>) => i.value * 10),
        toArray(),
      ),
    );
    assert.deepEqual(values, [20, 30, 40]);
    const first = await firstValueFrom(obs);
    assert.deepEqual(first, { value: 2, label: Label.public });
  });

  it('a public-cleared observable never emits a secret item', async () => {
    const mixed = from([1, 666, 2], {
      labelOf: (v) => (v === 666 ? SECRET : Label.public),
    });
    const items = await lastValueFrom(toObservable(mixed).pipe(toArray()));
    assert.deepEqual(
      items.map((i) => [i.value, i.label === Label.public]),
      [
        [1, true],
        [2, true],
      ],
    );
    assert.throws(() => toObservable(from([1], { label: SECRET })), FlowViolationError);
    const high = await lastValueFrom(
      toObservable(from([7], { label: SECRET }), { clearance: SECRET }).pipe(toArray()),
    );
    assert.deepEqual(high, [{ value: 7, label: SECRET }]);
  });

  it('unsubscribing stops the run', async () => {
    let stopped = false;
    // eslint-disable-next-line @typescript-eslint/require-await -- a generator that never waits on I/O
    async function* forever() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        stopped = true;
      }
    }
    const got = await lastValueFrom(toObservable(fromAsync(forever())).pipe(take(3), toArray()));
    assert.deepEqual(
      got.map((i) => i.value),
      [0, 1, 2],
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(stopped, true);
  });

  it('an error that ends the stream is an error notification', async () => {
    const failing = from([1, 0]).pipe(
      map((x) => {
        if (x === 0) throw new RangeError('zero');
        return x;
      }),
    );
    const seen: number[] = [];
    await assert.rejects(
      lastValueFrom(
        toObservable(failing).pipe(rxMap((i: OutputItem<number>) => seen.push(i.value))),
      ),
      RangeError,
    );
    assert.deepEqual(seen, [1]);
  });

  it('no other module of src imports rxjs (an optional peer dependency)', async () => {
    const src = fileURLToPath(new URL('../../src', import.meta.url));
    const offenders: string[] = [];
    let scanned = 0;
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('/rxjs.ts')) {
          scanned++;
          if (/from\s+['"]rxjs(\/[^'"]*)?['"]/.test(await readFile(p, 'utf8'))) offenders.push(p);
        }
      }
    };
    await walk(src);
    assert.ok(scanned > 20);
    assert.deepEqual(offenders, []);
  });
});
