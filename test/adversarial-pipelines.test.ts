/**
 * Adversarial pipelines: a colleague of the pipeline's author, who writes operator functions,
 * policies and wiring but holds none of the secret tags' privileges, tries to move data
 * labelled L to a sink (or an operator instance) below L: through control flow, keyed routing,
 * releases, values mutated after they crossed a boundary, errors, the audit log and forged
 * objects. Each test asserts the attempt is stopped: the check rejects it, a ConfigError comes
 * at build time, or the public view is exactly what it would have been without the secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, FlowViolationError, SluiceError } from '../src/errors.js';
import { Label, type Privilege } from '../src/labels.js';
import {
  declassify,
  endorse,
  filter,
  from,
  fromAsync,
  KeyFamily,
  keyBy,
  map,
  merge,
  Pipeline,
  reduce,
  scan,
  Stream,
  takeUntil,
  toCallback,
  type ReleasePolicy,
  type SinkDef,
  type SinkInfo,
} from '../src/operators.js';

/** What a sink saw: values (or [key, value] in per-key sinks), then 'complete' or 'error'. */
function collector<T>(options: Parameters<typeof toCallback<T>>[1] = {}) {
  const seen: unknown[] = [];
  const sink: SinkDef<T> = toCallback<T>(
    (v, info: SinkInfo) => seen.push(info.key === undefined ? v : [info.key, v]),
    { ...options, onComplete: () => seen.push('complete'), onError: () => seen.push('error') },
  );
  return { seen, sink };
}

async function* slowly<T>(values: readonly T[]): AsyncGenerator<T> {
  for (const v of values) {
    await Promise.resolve();
    yield v;
  }
}

const everything = (): ReleasePolicy => ({ describe: 'everything', release: (v) => v });

describe('adversarial pipelines: control flow in keyed sections', () => {
  /**
   * Each account's salary is secret to everyone but the account (family `acct`): the notifier
   * fires for account k iff k's salary > 100 (salary declassified, per-key tags kept). Another
   * account's values, and the unkeyed public values, must not be cut off by it.
   */
  type Pay = { a: string; s: number };
  type Row = { a: string; n: number };
  async function takeUntilView(aliceSalary: number, keyedSource: boolean) {
    const p = new Pipeline();
    const salary = p.tag('salary');
    const acct = p.family('acct');
    const notifier = from(
      [
        { a: 'alice', s: aliceSalary },
        { a: 'bob', s: 50 },
      ],
      { label: Label.secrecy(salary.tag) },
    ).pipe(
      keyBy((r: Pay) => r.a, acct),
      filter((r: Pay) => r.s > 100),
      declassify({ privileges: [salary.minus], policy: everything() }),
    );
    const values = slowly<Row>([
      { a: 'alice', n: 1 },
      { a: 'bob', n: 2 },
      { a: 'bob', n: 3 },
    ]);
    const source = keyedSource
      ? fromAsync(values).pipe(keyBy((r: Row) => r.a, acct))
      : fromAsync(values);
    const c = collector<number>({ perKey: acct });
    p.output(
      source.pipe(
        takeUntil<Row>(notifier),
        map((r: Row) => r.n),
      ),
      c.sink,
    );
    assert.equal(p.check().ok, true);
    await p.run();
    return c.seen;
  }

  it('a keyed notifier never cuts off the unkeyed (public) values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 200 }), async (s) => {
        assert.deepEqual(await takeUntilView(s, false), [1, 2, 3, 'complete']);
      }),
      { numRuns: 20 },
    );
  });

  it("a keyed notifier for one key never cuts off another key's values", async () => {
    const bobView = (seen: unknown[]) =>
      seen.filter((x) => !Array.isArray(x) || x[0] === 'bob' || typeof x[0] !== 'string');
    const low = bobView(await takeUntilView(10, true));
    const high = bobView(await takeUntilView(150, true));
    assert.deepEqual(low, [['bob', 2], ['bob', 3], 'complete']);
    assert.deepEqual(high, low);
    // …while alice's own instance is cut off by her own notifier.
    assert.deepEqual(
      (await takeUntilView(150, true)).filter((x) => Array.isArray(x) && x[0] === 'alice'),
      [],
    );
  });

  it('integrity: an untrusted notifier cutting off trusted data cannot reach a trusted sink', () => {
    const p = new Pipeline();
    const audited = p.tag('audited');
    const trusted = from([1, 2]).pipe(
      endorse({
        to: Label.integrity(audited.tag),
        privileges: [audited.plus],
        policy: everything(),
      }),
    );
    p.output(
      trusted.pipe(takeUntil(from(['stop']))),
      toCallback(() => undefined, { label: Label.integrity(audited.tag) }),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.ok(
      r.violations[0]!.paths.some(
        (x) => /missing integrity tag 'audited'/.test(x.what) && /control flow/.test(x.path),
      ),
    );
  });
});

describe('adversarial pipelines: keyed routing', () => {
  it("one key's data never changes what another key's instance emits (property)", async () => {
    const view = async (aliceValues: number[]) => {
      const p = new Pipeline();
      const acct = p.family('acct');
      const rows = [
        ...aliceValues.map((x) => ({ a: 'alice', x })),
        { a: 'bob', x: 1 },
        { a: 'bob', x: 2 },
      ];
      const c = collector<number>({ perKey: acct });
      p.output(
        from(rows).pipe(
          keyBy((r: { a: string; x: number }) => r.a, acct),
          scan((acc: number, r: { a: string; x: number }) => acc * 2 + r.x, 0),
          filter((n: number) => n % 3 !== 0),
        ),
        c.sink,
      );
      await p.run();
      return c.seen.filter((x) => !Array.isArray(x) || x[0] === 'bob');
    };
    const base = await view([]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }), async (xs) => {
        assert.deepEqual(await view(xs), base);
      }),
      { numRuns: 30 },
    );
  });

  it('keyed results come out in an order that depends only on the set of keys (never arrival)', async () => {
    const run = async (keys: (string | number)[]) => {
      const p = new Pipeline();
      const fam = p.family('k');
      const c = collector<unknown>();
      p.output(
        from(keys.map((k) => ({ k }))).pipe(
          keyBy((r: { k: string | number }) => r.k, fam),
          reduce((n: number) => n + 1, 0),
          declassify({
            families: [fam],
            policy: { describe: 'counts', release: (n, k) => [k, n] },
          }),
        ),
        c.sink,
      );
      await p.run();
      return c.seen;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<string | number>(Number.NaN, 0, 1, -1, 2.5, Infinity, 'a', 'b'), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.nat(),
        async (keys, rot) => {
          const r = rot % keys.length;
          const a = await run(keys);
          assert.deepEqual(await run([...keys].reverse()), a);
          assert.deepEqual(await run([...keys.slice(r), ...keys.slice(0, r)]), a);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a key that is not a valid tag name neither fails the run nor unwinds into a public source', async () => {
    const view = async (sec: number[]) => {
      const p = new Pipeline();
      const SECRET = Label.secrecy(p.tag('secret').tag);
      const fam = p.family('k');
      const P = from([1, 2, 3]);
      type Acc = { bad: boolean; pub: boolean };
      // Keyed at the secret label: the key of a public value becomes odd once a secret 13 went by.
      p.output(
        from(
          sec.map((s) => ({ s })),
          { label: SECRET },
        ).pipe(
          merge<number | { s: number }>(P),
          scan(
            (a: Acc, x: number | { s: number }): Acc =>
              typeof x === 'number'
                ? { bad: a.bad, pub: true }
                : { bad: a.bad || x.s === 13, pub: false },
            { bad: false, pub: false },
          ),
          keyBy((a: Acc) => (a.bad && a.pub ? 'not a tag name! '.repeat(20) : 'ok'), fam),
        ),
        toCallback(() => undefined, { label: SECRET, perKey: fam }),
      );
      const pub = collector<number>();
      p.output(P, pub.sink);
      const report = await p.run();
      return { seen: pub.seen, failures: report.failures.length };
    };
    const clean = await view([1, 2]);
    assert.deepEqual(clean, { seen: [1, 2, 3, 'complete'], failures: 0 });
    assert.deepEqual(await view([1, 13]), clean);
  });

  it('keyBy refuses forged and proxied key families at build time', () => {
    const p = new Pipeline();
    const real = p.family('real');
    const forged: unknown[] = [
      Object.create(KeyFamily.prototype) as unknown,
      Object.assign(Object.create(KeyFamily.prototype) as object, {
        name: 'fake',
        label: () => Label.public,
        privileges: () => [],
      }),
      new Proxy(real, {}),
      { ...real },
    ];
    for (const f of forged) {
      assert.throws(() => keyBy((x: number) => x, f as KeyFamily), ConfigError);
      assert.throws(() => toCallback(() => undefined, { perKey: f as KeyFamily }), ConfigError);
      assert.throws(
        () => declassify({ families: [f as KeyFamily], policy: everything() }),
        ConfigError,
      );
    }
  });

  it('a per-key stream released of its base secrecy still reaches only per-key sinks', () => {
    const p = new Pipeline();
    const salary = p.tag('salary');
    const acct = p.family('acct');
    const perAccount = from([{ a: 'x', s: 1 }], { label: Label.secrecy(salary.tag) }).pipe(
      keyBy((r: { a: string }) => r.a, acct),
      declassify({ privileges: [salary.minus], policy: everything() }),
    );
    p.output(
      perAccount,
      toCallback(() => undefined, { perKey: acct }),
    );
    assert.equal(p.check().ok, true);
    p.output(
      perAccount,
      toCallback(() => undefined),
    );
    const r = p.check();
    assert.equal(r.ok, false);
    assert.match(r.violations[0]!.paths[0]!.what, /family 'acct'/);
  });
});

describe('adversarial pipelines: releases', () => {
  it('declassify without the privilege, with the wrong one, or with the wrong family is rejected', () => {
    const attempts: [
      string,
      (s: Stream<number>, x: ReturnType<typeof setup>) => Stream<unknown>,
    ][] = [
      ['no privileges', (s) => s.pipe(declassify({ policy: everything() }))],
      [
        'another tag',
        (s, x) => s.pipe(declassify({ privileges: [x.bob.minus], policy: everything() })),
      ],
      [
        't+ instead of t-',
        (s, x) => s.pipe(declassify({ privileges: [x.alice.plus], policy: everything() })),
      ],
      [
        'an unrelated family',
        (s, x) => s.pipe(declassify({ families: [x.other], policy: everything() })),
      ],
    ];
    function setup() {
      const p = new Pipeline();
      return { p, alice: p.tag('alice'), bob: p.tag('bob'), other: p.family('other') };
    }
    for (const [what, attack] of attempts) {
      const x = setup();
      const got: unknown[] = [];
      x.p.output(
        attack(from([1], { label: Label.secrecy(x.alice.tag) }), x),
        toCallback((v) => got.push(v)),
      );
      const r = x.p.check();
      assert.equal(r.ok, false, what);
      assert.match(
        r.violations.map((v) => v.message).join('\n'),
        /cannot declassify|could receive/,
      );
    }
  });

  it('endorse needs t+ for the integrity it adds', () => {
    const p = new Pipeline();
    const audited = p.tag('audited');
    const I = Label.integrity(audited.tag);
    p.output(
      from([1]).pipe(endorse({ to: I, privileges: [audited.minus], policy: everything() })),
      toCallback(() => undefined, { label: I }),
    );
    assert.match(formatFirst(p), /cannot endorse public to I\{audited\}/);
  });

  it('forged, cloned and proxied privileges are refused when the release is built', () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const fakes: unknown[] = [
      Object.create(Object.getPrototypeOf(alice.minus) as object) as unknown,
      { ...alice.minus },
      new Proxy(alice.minus, {}),
      { tag: alice.tag, kind: 'minus' },
    ];
    for (const f of fakes) {
      assert.throws(
        () => declassify({ privileges: [f as Privilege], policy: everything() }),
        SluiceError,
      );
    }
  });

  it('a policy that throws on secret data releases exactly what one that withholds would', async () => {
    const view = async (secrets: number[], throws: boolean) => {
      const p = new Pipeline();
      const alice = p.tag('alice');
      const c = collector<unknown>();
      p.output(
        from(secrets, { label: Label.secrecy(alice.tag) }).pipe(
          declassify({
            privileges: [alice.minus],
            policy: {
              describe: 'only small values',
              release: (v) => {
                if ((v as number) === 13) {
                  if (throws) throw new Error('unlucky 13');
                  return undefined;
                }
                return (v as number) < 5 ? 'small' : undefined;
              },
            },
          }),
        ),
        c.sink,
      );
      await p.run();
      return c.seen;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(1, 7, 13), { maxLength: 8 }), async (xs) => {
        assert.deepEqual(await view(xs, true), await view(xs, false));
      }),
      { numRuns: 40 },
    );
  });

  it('an error thrown at the secret label is never released, and its message is nowhere public', async () => {
    const MARK = 'SECRET-MSG-7f3a';
    const p = new Pipeline();
    const alice = p.tag('alice');
    const c = collector<unknown>();
    p.output(
      from([1, 2], { label: Label.secrecy(alice.tag) }).pipe(
        map((x: number) => {
          if (x === 2) throw new Error(`${MARK} ${String(x)}`);
          return x;
        }),
        declassify({
          privileges: [alice.minus],
          policy: { describe: 'nothing', release: () => undefined },
        }),
      ),
      c.sink,
    );
    const report = await p.run();
    assert.deepEqual(c.seen, ['complete']);
    assert.equal(report.failures.length, 1);
    assert.doesNotMatch(JSON.stringify(p.engine.audit.entries()), new RegExp(MARK));
  });
});

describe('adversarial pipelines: values mutated after they crossed or fanned out', () => {
  /** A public value that a public sink keeps, also fed to a secret operator (fanned out). */
  async function mutationView<V>(
    make: () => V,
    mutate: (v: V) => void,
    show: (v: V) => unknown,
    sec: number[],
  ) {
    const p = new Pipeline();
    const SECRET = Label.secrecy(p.tag('secret').tag);
    const made = from([0]).pipe(map(make));
    // Secret branch first: its source runs first, so the secret is known when the value comes.
    p.output(
      from(
        sec.map((s) => ({ s })),
        { label: SECRET },
      ).pipe(
        merge<V | { s: number }>(made),
        scan((bad: boolean, x: V | { s: number }) => {
          if (typeof x === 'object' && x !== null && 's' in x) return bad || x.s === 13;
          if (bad) {
            try {
              mutate(x as V);
            } catch {
              /* frozen: the attempt fails */
            }
          }
          return bad;
        }, false),
      ),
      toCallback(() => undefined, { label: SECRET }),
    );
    const kept: V[] = [];
    const errors: unknown[] = [];
    p.output(
      made,
      toCallback((v: V) => kept.push(v), { onError: (e) => errors.push(e) }),
    );
    await p.run();
    return { kept: kept.map(show), errors: errors.length };
  }

  it('a flat or nested object: frozen, the secret operator cannot write into it', async () => {
    const args = [
      () => ({ inner: { n: 0 }, list: [0] }),
      (v: { inner: { n: number }; list: number[] }) => {
        v.inner.n = 1;
        v.list.push(1);
      },
      (v: { inner: { n: number }; list: number[] }) => JSON.stringify(v),
    ] as const;
    assert.deepEqual(await mutationView(...args, [13]), await mutationView(...args, [1]));
  });

  it('an object frozen only at the top (Object.freeze) is still frozen all the way down', async () => {
    type V = { inner: { n: number } };
    const args = [
      (): V => Object.freeze({ inner: { n: 0 } }),
      (v: V) => (v.inner.n = 1),
      (v: V) => v.inner.n,
    ] as const;
    assert.deepEqual(await mutationView(...args, [13]), await mutationView(...args, [1]));
  });

  it('a value nested deeper than 64 levels is frozen all the way down', async () => {
    type Deep = { next?: Deep; n: number };
    const make = (): Deep => {
      const root: Deep = { n: 0 };
      let d = root;
      for (let i = 0; i < 100; i++) d = d.next = { n: 0 };
      return root;
    };
    const leaf = (v: Deep) => {
      let d = v;
      while (d.next !== undefined) d = d.next;
      return d;
    };
    const args = [make, (v: Deep) => (leaf(v).n = 1), (v: Deep) => leaf(v).n] as const;
    assert.deepEqual(await mutationView(...args, [13]), await mutationView(...args, [1]));
  });

  it('an object under a symbol key is frozen too', async () => {
    const hidden = Symbol('hidden');
    type V = { [hidden]: { n: number } };
    const args = [
      (): V => ({ [hidden]: { n: 0 } }),
      (v: V) => {
        const s = Object.getOwnPropertySymbols(v)[0]!;
        (v as unknown as Record<symbol, { n: number }>)[s]!.n = 1;
      },
      (v: V) => v[hidden].n,
    ] as const;
    assert.deepEqual(await mutationView(...args, [13]), await mutationView(...args, [1]));
  });

  it('a Map, Set, Date or typed array (mutable even when frozen) never crosses or fans out', async () => {
    type Case = [string, () => unknown, (v: never) => unknown, (v: never) => unknown];
    const cases: Case[] = [
      [
        'Map',
        () => new Map(),
        (m: Map<string, number>) => m.set('x', 1),
        (m: Map<string, number>) => m.size,
      ],
      ['Set', () => new Set(), (s: Set<number>) => s.add(1), (s: Set<number>) => s.size],
      ['Date', () => new Date(0), (d: Date) => d.setTime(1), (d: Date) => d.getTime()],
      [
        'Uint8Array',
        () => new Uint8Array(1),
        (a: Uint8Array) => (a[0] = 1),
        (a: Uint8Array) => a[0],
      ],
    ];
    for (const [what, make, mutate, show] of cases) {
      const m = mutate as (v: unknown) => void;
      const sh = show as (v: unknown) => unknown;
      const a = await mutationView(make, m, sh, [13]);
      const b = await mutationView(make, m, sh, [1]);
      assert.deepEqual(a, b, what);
      assert.deepEqual(a, { kept: [], errors: 1 }, what);
    }
  });
});

describe('adversarial pipelines: exceptions never unwind into a lower label', () => {
  /** A secret operator emits a value that cannot be frozen, while a public source is pushing. */
  async function unwindView(kind: 'typed array' | 'throwing getter' | 'proxy', sec: number[]) {
    const p = new Pipeline();
    const SECRET = Label.secrecy(p.tag('secret').tag);
    const P = from([1, 2, 3]);
    type Acc = { bad: boolean; pub: boolean };
    const poison = (): unknown =>
      kind === 'typed array'
        ? new Uint8Array(4)
        : kind === 'throwing getter'
          ? {
              get x(): number {
                throw new Error('getter');
              },
            }
          : new Proxy(
              {},
              {
                preventExtensions: () => {
                  throw new Error('proxy');
                },
              },
            );
    const out = from(
      sec.map((s) => ({ s })),
      { label: SECRET },
    ).pipe(
      merge<number | { s: number }>(P),
      scan(
        (a: Acc, x: number | { s: number }): Acc =>
          typeof x === 'number'
            ? { bad: a.bad, pub: true }
            : { bad: a.bad || x.s === 13, pub: false },
        { bad: false, pub: false },
      ),
      map((a: Acc) => (a.bad && a.pub ? poison() : a)),
    );
    // Fanned out to two sinks: the fan-out freezes the value.
    p.output(
      out,
      toCallback(() => undefined, { label: SECRET }),
    );
    p.output(
      out,
      toCallback(() => undefined, { label: SECRET }),
    );
    const pub = collector<number>();
    p.output(P, pub.sink);
    await p.run();
    return pub.seen;
  }

  for (const kind of ['typed array', 'throwing getter', 'proxy'] as const) {
    it(`a ${kind} that cannot be frozen fails at its own label only`, async () => {
      const clean = await unwindView(kind, [1]);
      assert.deepEqual(clean, [1, 2, 3, 'complete']);
      assert.deepEqual(await unwindView(kind, [13]), clean);
    });
  }
});

describe('adversarial pipelines: forged streams, nodes and labels', () => {
  const secretStream = () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    return { p, s: from([42], { label: Label.secrecy(alice.tag) }) };
  };

  it("a node cannot be built from a real node's constructor (a fake release with a fake authority)", () => {
    const { s } = secretStream();
    const NodeCtor = s.node.constructor as new (init: unknown) => unknown;
    const fakeInit = {
      kind: 'declassify',
      inputs: [{ node: s.node, role: 'source', control: false }],
      effect: {
        kind: 'release',
        op: 'declassify',
        to: Label.public,
        authority: { mayRelabel: () => true, describe: () => [] },
        families: [],
      },
      make: () => [],
    };
    assert.throws(() => new NodeCtor(fakeInit), SluiceError);
  });

  it('a Stream cannot wrap a fake node, and a fake Stream is refused everywhere a stream is taken', () => {
    const { p, s } = secretStream();
    const fakeNode = { ...s.node, effect: { kind: 'release' }, inputs: [] };
    assert.throws(() => new Stream(fakeNode as unknown as Stream<number>['node']), ConfigError);
    const fakes: unknown[] = [
      Object.assign(Object.create(Stream.prototype) as object, { node: fakeNode }),
      Object.assign(Object.create(Stream.prototype) as object, { node: s.node }),
      new Proxy(s, {}),
    ];
    for (const f of fakes) {
      const fake = f as Stream<number>;
      assert.throws(
        () =>
          p.output(
            fake,
            toCallback(() => undefined),
          ),
        ConfigError,
      );
      assert.throws(() => map((x: number) => x)(fake), ConfigError);
      assert.throws(() => from([1]).pipe(merge(fake)), ConfigError);
      assert.throws(() => from([1]).pipe(takeUntil(fake)), ConfigError);
      assert.throws(() => from([1]).pipe(() => fake), ConfigError);
    }
  });

  it('a sink definition must return a real sink node', () => {
    const { p, s } = secretStream();
    const fakeSink = {
      ...s.node,
      clearance: undefined,
      make: () => [{ next: () => undefined, error: () => undefined, complete: () => undefined }],
    };
    assert.throws(() => p.output(s, () => fakeSink as never), ConfigError);
    // A real operator node is not a sink either.
    assert.throws(() => p.output(s, (src) => src.pipe(map((x) => x)).node), ConfigError);
  });

  it("a node's inputs and effect cannot be changed after it is built", () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const secret = from([1], { label: Label.secrecy(alice.tag) });
    const mapped = secret.pipe(map((x: number) => x));
    p.output(
      mapped,
      toCallback(() => undefined),
    );
    const before = p.check();
    assert.equal(before.ok, false);
    const node = mapped.node as unknown as {
      inputs: { node: unknown; control: boolean }[];
      effect: Record<string, unknown>;
    };
    assert.throws(() => {
      node.effect.kind = 'release';
    }, TypeError);
    assert.throws(() => {
      node.inputs[0]!.node = from([1]).node;
    }, TypeError);
    assert.throws(() => {
      node.inputs.pop();
    }, TypeError);
    assert.equal(p.check().ok, false);
  });

  it("a sink's clearance cannot be widened after it is built (its families are frozen)", () => {
    const p = new Pipeline();
    const acct = p.family('acct');
    const keyed = from([{ a: 'x' }]).pipe(keyBy((r: { a: string }) => r.a, acct));
    const node = toCallback(() => undefined)(keyed);
    assert.throws(() => {
      (node.clearance!.families as KeyFamily[]).push(acct);
    }, TypeError);
    p.output(keyed, () => node);
    assert.equal(p.check().ok, false);
  });

  it('forged labels are refused wherever a pipeline takes a label', () => {
    const real = Label.secrecy(new Pipeline().tag('a').tag);
    const fakes: unknown[] = [
      Object.create(Label.prototype) as unknown,
      new Proxy(real, {}),
      { ...real },
      { secrecy: [], integrity: [] },
    ];
    for (const f of fakes) {
      const l = f as Label;
      assert.throws(() => from([1], { label: l }), ConfigError);
      assert.throws(() => from([1]).pipe(map((x: number) => x, { label: l })), ConfigError);
      assert.throws(() => toCallback(() => undefined, { label: l }), ConfigError);
      assert.throws(() => declassify({ to: l, policy: everything() }), ConfigError);
    }
  });

  it('labelOf on a source: forged, throwing or too-high labels never let a value through', async () => {
    const p = new Pipeline();
    const alice = p.tag('alice');
    const SECRET = Label.secrecy(alice.tag);
    const fake = Object.create(Label.prototype) as Label;
    const make = (labelOf: (x: number) => Label) => {
      const c = collector<number>();
      p.output(from([1, 2, 3], { labelOf }), c.sink);
      return c;
    };
    const forged = make((x) => (x === 2 ? fake : Label.public));
    const throwing = make((x) => {
      if (x === 2) throw new Error('no label');
      return Label.public;
    });
    const high = make((x) => (x === 2 ? SECRET : Label.public));
    const report = await p.run();
    // A broken labelOf ends its source at the source's label; a too-high label is refused.
    assert.deepEqual(forged.seen, [1, 'error']);
    assert.deepEqual(throwing.seen, [1, 'error']);
    assert.deepEqual(high.seen, [1, 3, 'complete']);
    assert.equal(
      Object.values(report.refused).reduce((a, b) => a + b, 0),
      1,
    );
  });
});

describe('adversarial pipelines: the audit log never holds values (property)', () => {
  it('refusals, failures and releases record labels and names, never the data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ minLength: 4, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        async (words) => {
          const vals = words.map((w) => `V@L${w}`);
          const p = new Pipeline();
          const alice = p.tag('alice');
          const SECRET = Label.secrecy(alice.tag);
          const fam = p.family('row');
          p.output(
            from(vals, { labelOf: (v) => (v.length % 2 === 0 ? SECRET : Label.public) }),
            toCallback(() => undefined),
          );
          p.output(
            from(vals, { label: SECRET }).pipe(
              keyBy((_v: string) => 'fixed', fam),
              map((v: string) => {
                if (v.length % 3 === 0) throw new Error(v);
                return v;
              }),
              declassify({
                privileges: [alice.minus],
                families: [fam],
                policy: {
                  describe: 'short ones',
                  release: (v) => ((v as string).length < 10 ? v : undefined),
                },
              }),
            ),
            toCallback(() => undefined),
          );
          await p.run();
          const log = JSON.stringify(p.engine.audit.entries());
          for (const v of vals) assert.ok(!log.includes(v));
        },
      ),
      { numRuns: 30 },
    );
  });
});

function formatFirst(p: Pipeline): string {
  const r = p.check();
  assert.equal(r.ok, false);
  return r.violations.map((v) => v.message).join('\n');
}

it('adversarial pipelines: a rejected pipeline runs nothing', async () => {
  const p = new Pipeline();
  const alice = p.tag('alice');
  let ran = false;
  p.output(
    from([1], { label: Label.secrecy(alice.tag) }).pipe(
      map((x: number) => {
        ran = true;
        return x;
      }),
    ),
    toCallback(() => undefined),
  );
  await assert.rejects(p.run(), FlowViolationError);
  assert.equal(ran, false);
});
