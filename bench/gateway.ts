/**
 * `npm run bench -- gateway`: requests/s and latency of a handler doing one get and one put,
 * through the Sluice gateway (labels) and through a plain Fastify server (no labels), in one
 * process, driven over loopback by autocannon running in a child process.
 *
 * - labels: `Gateway` with the memory `FacetedStore`. Per request: authenticate the bearer JWT,
 *   parse the `sluice-label` header into the invocation label, build the frozen request and the
 *   handler context, run the handler against the store view at that label (the key holds a
 *   public facet and one at ⟨{a}, ∅⟩, so every get chooses between facets and every put
 *   replaces one), check the response label against the clearance, serialize.
 * - plain: a Fastify server with the same options (body limit, poisoning checks, content-type
 *   parsers), the same authentication in `onRequest` (the gateway's Authenticator: the same
 *   jose verify of the same token, the same principal lookup), and an async route doing the
 *   same awaited get and put on a plain key-value store over the same backend kind: a `Map`
 *   behind the same Promise-returning get/put interface, with the same value codec as the
 *   store (validate, copy, deep-freeze), replying the same JSON. It receives the same headers
 *   (including `sluice-label`) and ignores the label.
 *
 * - isolated (tier 0): the same gateway, the same handler given as code (an ES module run in an
 *   SES compartment, one instance per invocation label: src/gateway/handler-code.ts): the
 *   request copied in, each store call through the compartment's door (arguments copied,
 *   results hardened), the response copied out.
 * - worker (tier 1): the same code in a worker thread: the request, each store call and its
 *   reply, and the response cross the thread as messages.
 *
 * All run back to back in each round, rotating which goes first; medians of the rounds.
 * A second phase compares "refused at the boundary" with "truly absent" (both 404) latency.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Engine } from '../src/index.js';
import { Label } from '../src/labels.js';
import { Gateway, createTags, parseConfig, type Route } from '../src/gateway.js';
import { Authenticator } from '../src/gateway/authenticator.js';
import { buildPrincipals } from '../src/gateway/principals.js';
import { FacetedStore, type JsonValue, type StoreView } from '../src/store.js';
import { encodeValue } from '../src/store/json-value.js';
import { hsToken, JWT_SECRET, kvGet } from '../test/support/gateway-client.js';
import type { LoadJob, LoadResult } from './gateway-load.js';
import { machine, median, sig } from './stats.js';

const ROUNDS = 5;
const SECONDS = 3;
const WARMUP_SECONDS = 2;
const CONNECTIONS = 16;
/** The paired CPU phase: labels and plain alternately, a fixed number of requests each. */
const CPU_PAIRS = 7;
const CPU_REQUESTS = 6000;
const BODY = JSON.stringify({ name: 'sluice', n: 1, tags: ['a', 'b'] });
/** The labels server's PUT handler, as code run isolated. */
const ISOLATED = `export default async (req, ctx) => {
  const k = req.params.k ?? '';
  const previous = (await ctx.store.get(k)) ?? null;
  await ctx.store.put(k, req.body);
  return { body: { previous } };
};`;

/** This process's main thread's CPU time so far, µs (Linux schedstat; NaN elsewhere). */
function mainThreadUs(): number {
  try {
    const t = readFileSync(`/proc/self/task/${String(process.pid)}/schedstat`, 'latin1');
    return Number(t.slice(0, t.indexOf(' '))) / 1000;
  } catch {
    return Number.NaN;
  }
}

/**
 * Run one load job in a child; the result with this process's CPU time (µs, user + system, all
 * threads: `cpuUs`; the main thread alone, where the servers' JavaScript runs: `mainUs`) from
 * the moment the child was ready to send until its figures arrived (its start-up not counted).
 */
function load(
  job: LoadJob,
): Promise<LoadResult & { readonly cpuUs: number; readonly mainUs: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./gateway-load.js', import.meta.url), [JSON.stringify(job)]);
    let cpu0: NodeJS.CpuUsage | undefined;
    let main0 = 0;
    child.on('message', (m) => {
      if (m === 'ready') {
        // The garbage of earlier runs (of any server: they share the heap) is collected first.
        globalThis.gc?.();
        cpu0 = process.cpuUsage();
        main0 = mainThreadUs();
        child.send('go');
        return;
      }
      const c = process.cpuUsage(cpu0);
      resolve({ ...(m as LoadResult), cpuUs: c.user + c.system, mainUs: mainThreadUs() - main0 });
    });
    child.once('error', reject);
  });
}

function checked<R extends LoadResult>(r: R, what: string): R {
  if (r.errors > 0 || r.requests === 0) throw new Error(`${what}: ${JSON.stringify(r)}`);
  return r;
}

export const config = parseConfig({
  tags: ['a'],
  auth: { jwt: { secret: JWT_SECRET } },
  principals: { user: { clearance: { secrecy: ['a'] } } },
});

export async function labelled(engine: Engine, tags: ReturnType<typeof createTags>) {
  const store = FacetedStore.memory();
  const secret = Label.secrecy(tags.get('a')!.tag);
  await store.at(Label.public).put('item', 0);
  await store.at(secret).put('item', 0);
  const routes: Route<StoreView>[] = [
    {
      method: 'PUT',
      path: '/kv/:k',
      handler: async (req, ctx) => {
        const k = req.params.k ?? '';
        const previous = (await ctx.store.get(k)) ?? null;
        await ctx.store.put(k, req.body as JsonValue);
        return { body: { previous } };
      },
    },
    kvGet,
    { method: 'PUT', path: '/iso/:k', code: { source: ISOLATED } },
    { method: 'PUT', path: '/worker/:k', code: { source: ISOLATED, tier: 1 } },
    // Refused at the boundary: the response is declared above every principal's clearance.
    {
      method: 'GET',
      path: '/refused/:k',
      handler: async (req, ctx) => {
        const v = await ctx.store.get(req.params.k ?? '');
        return { body: { value: v ?? null }, label: Label.secrecy(tags.get('b')!.tag) };
      },
    },
  ];
  const gw = await Gateway.create<StoreView>({
    config,
    engine,
    tags,
    storeAt: (l) => store.at(l),
    routes,
  });
  return { url: await gw.listen(), close: () => gw.close() };
}

/** The plain key-value store: a Map behind the store's async get/put shape and value codec. */
class PlainKv {
  readonly #m = new Map<string, JsonValue>([['item', 0]]);
  get(k: string): Promise<JsonValue | undefined> {
    return Promise.resolve(this.#m.get(k));
  }
  put(k: string, v: JsonValue): Promise<void> {
    this.#m.set(k, encodeValue(v).value);
    return Promise.resolve();
  }
}

export async function plain(auth: Authenticator) {
  const kv = new PlainKv();
  const app = Fastify({
    logger: false,
    bodyLimit: config.server.bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    forceCloseConnections: true,
  });
  app.removeContentTypeParser('text/plain');
  app.put(
    '/kv/:k',
    {
      onRequest: async (req) => {
        await auth.authenticate(req.headers);
      },
    },
    async (req, reply) => {
      const k = (req.params as { k: string }).k;
      const previous = (await kv.get(k)) ?? null;
      await kv.put(k, req.body as JsonValue);
      return reply.send({ previous });
    },
  );
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), close: () => app.close() };
}

export async function main(): Promise<void> {
  const engine = new Engine();
  const tags = createTags(engine, ['a', 'b']);
  const auth = await Authenticator.create(config, buildPrincipals(config, tags));
  const headers = {
    authorization: `Bearer ${await hsToken('user', { exp: '1h' })}`,
    'content-type': 'application/json',
    'sluice-label': 's=a',
  };
  const L = await labelled(engine, tags);
  const P = await plain(auth);
  const job = (url: string, seconds: number): LoadJob => ({
    url,
    method: 'PUT',
    headers,
    body: BODY,
    connections: CONNECTIONS,
    seconds,
  });
  const servers = {
    labels: `${L.url}/kv/item`,
    plain: `${P.url}/kv/item`,
    isolated: `${L.url}/iso/item`,
    worker: `${L.url}/worker/item`,
  } as const;
  type Which = keyof typeof servers;
  const names = Object.keys(servers) as Which[];
  process.stdout.write(
    `gateway: PUT …/item (one get + one put), ${CONNECTIONS} connections, ` +
      `${ROUNDS} rounds × ${SECONDS} s per server, rotating; ${machine()}\n`,
  );
  // `--only labels|plain|isolated|worker` runs one server (for profiling with --cpu-prof).
  const at = process.argv.indexOf('--only');
  const only = at < 0 ? undefined : (process.argv[at + 1] as Which | undefined);
  // `--cpu` runs only the paired CPU phase (labels and plain): the quick check of a change.
  const cpuOnly = process.argv.includes('--cpu');
  const runs =
    only !== undefined
      ? names.filter((n) => n === only)
      : cpuOnly
        ? (['labels', 'plain'] as const)
        : names;
  // Warm-up (JIT, connection pools, the isolated instances), not counted.
  let warm = 0;
  for (const n of runs) warm += checked(await load(job(servers[n], WARMUP_SECONDS)), n).requests;
  /**
   * Server CPU per request, paired: labels and plain each serve the same fixed number of
   * requests back to back (alternating which goes first); the ratio is taken within each pair
   * (the machine's load changes less within a pair than across the run), then its median.
   */
  const cpuPhase = async () => {
    const us = { labels: [] as number[], plain: [] as number[], ratio: [] as number[] };
    const main = { labels: [] as number[], plain: [] as number[], ratio: [] as number[] };
    for (let i = 0; i < CPU_PAIRS; i++) {
      const pair = { labels: 0, plain: 0 };
      const pairMain = { labels: 0, plain: 0 };
      const order = i % 2 === 0 ? (['labels', 'plain'] as const) : (['plain', 'labels'] as const);
      for (const which of order) {
        const x = checked(await load({ ...job(servers[which], 60), amount: CPU_REQUESTS }), which);
        if (x.non2xx > 0) throw new Error(`${which}: non-2xx ${JSON.stringify(x.statuses)}`);
        pair[which] = x.cpuUs / x.requests;
        pairMain[which] = x.mainUs / x.requests;
        us[which].push(pair[which]);
        main[which].push(pairMain[which]);
      }
      us.ratio.push(pair.labels / pair.plain);
      main.ratio.push(pairMain.labels / pairMain.plain);
      process.stdout.write(
        `  CPU pair ${i + 1}: labels ${sig(pair.labels)} µs/req (main thread ` +
          `${sig(pairMain.labels)}), plain ${sig(pair.plain)} (${sig(pairMain.plain)}), ` +
          `ratio ${sig(us.ratio.at(-1) ?? 0)} (${sig(main.ratio.at(-1) ?? 0)})\n`,
      );
    }
    const m = {
      labels: median(us.labels),
      plain: median(us.plain),
      ratio: median(us.ratio),
      mainLabels: median(main.labels),
      mainPlain: median(main.plain),
      mainRatio: median(main.ratio),
    };
    process.stdout.write(
      `CPU per request (${CPU_PAIRS} pairs × ${CPU_REQUESTS} requests, medians): process: ` +
        `labels ${sig(m.labels)} µs, plain ${sig(m.plain)} µs, paired ratio ${sig(m.ratio)} ` +
        `(${us.ratio.map((r) => sig(r)).join(', ')}); main thread: labels ` +
        `${sig(m.mainLabels)} µs, plain ${sig(m.mainPlain)} µs, paired ratio ` +
        `${sig(m.mainRatio)} (${main.ratio.map((r) => sig(r)).join(', ')})\n`,
    );
    return m;
  };
  if (cpuOnly) {
    const m = await cpuPhase();
    await L.close();
    await P.close();
    process.stdout.write(
      `${JSON.stringify({
        bench: 'gateway-cpu',
        cpu_us_labels: sig(m.labels),
        cpu_us_plain: sig(m.plain),
        cpu_ratio: sig(m.ratio),
        cpu_us_main_labels: sig(m.mainLabels),
        cpu_us_main_plain: sig(m.mainPlain),
        cpu_ratio_main: sig(m.mainRatio),
      })}\n`,
    );
    return;
  }
  const res = new Map<Which, LoadResult[]>(names.map((n) => [n, []]));
  // Server-side CPU µs per request (this process: every server, idle between runs; a tier-1
  // worker's thread is in this process too).
  const cpu = new Map<Which, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = runs.map((_, i) => runs[(i + r) % runs.length] as Which);
    for (const which of order) {
      const x = checked(await load(job(servers[which], SECONDS)), which);
      cpu.get(which)?.push(x.cpuUs / x.requests);
      if (x.non2xx > 0) throw new Error(`${which}: non-2xx ${JSON.stringify(x.statuses)}`);
      res.get(which)?.push(x);
      process.stdout.write(
        `  round ${r + 1} ${which.padEnd(8)}: ${sig(x.rps)} req/s, ` +
          `p50 ${x.p50} ms, p99 ${x.p99} ms, ` +
          `server CPU ${sig(cpu.get(which)?.at(-1) ?? 0)} µs/req\n`,
      );
    }
  }
  const rps = (n: Which) => median((res.get(n) ?? []).map((x) => x.rps));
  const p99 = (n: Which) => median((res.get(n) ?? []).map((x) => x.p99));
  const cpuOf = (n: Which) => median(cpu.get(n) ?? []);
  if (only !== undefined) {
    process.stdout.write(`${only}: ${sig(rps(only))} req/s; ${warm} warm-up requests\n`);
    await L.close();
    await P.close();
    return;
  }
  const cpuM = await cpuPhase();
  const rpsL = rps('labels');
  const rpsP = rps('plain');
  const p99L = p99('labels');
  const overhead = rpsP / rpsL;
  const cpuRatio = cpuOf('labels') / cpuOf('plain');
  for (const n of names) {
    process.stdout.write(
      `${n} ${sig(rps(n))} req/s (p99 ${p99(n)} ms, ${sig(cpuOf(n))} µs CPU/req) | `,
    );
  }
  process.stdout.write(
    `overhead ${sig(overhead)} (goal ≤ 1.15: ${overhead <= 1.15 ? 'met' : 'missed'}), ` +
      `CPU/req ratio ${sig(cpuRatio)}; isolated vs in-process: ` +
      `req/s ${sig(rpsL / rps('isolated'))}×, CPU/req ${sig(cpuOf('isolated') / cpuOf('labels'))}×; ` +
      `worker vs in-process: req/s ${sig(rpsL / rps('worker'))}×, ` +
      `CPU/req ${sig(cpuOf('worker') / cpuOf('labels'))}×\n`,
  );

  // Refused at the boundary vs truly absent: both are the same 404; the runtime should add no
  // systematic latency difference (both do one get; only the response differs).
  const notFound = (path: string): LoadJob => ({
    url: `${L.url}${path}`,
    method: 'GET',
    headers: { authorization: headers.authorization },
    connections: 4,
    seconds: 2,
  });
  const refused: LoadResult[] = [];
  const absent: LoadResult[] = [];
  for (let r = 0; r < 2; r++) {
    for (const which of r % 2 === 0 ? ['R', 'A'] : ['A', 'R']) {
      const x = checked(
        await load(notFound(which === 'R' ? '/refused/item' : '/kv/never-written')),
        which,
      );
      if (x.statuses['404'] !== x.requests) throw new Error(`${which}: not all 404`);
      (which === 'R' ? refused : absent).push(x);
    }
  }
  const p50 = (xs: LoadResult[]) => median(xs.map((x) => x.p50));
  const rpsOf = (xs: LoadResult[]) => median(xs.map((x) => x.rps));
  process.stdout.write(
    `404 refused ${sig(rpsOf(refused))} req/s p50 ${p50(refused)} ms | ` +
      `404 absent ${sig(rpsOf(absent))} req/s p50 ${p50(absent)} ms | ` +
      `ratio ${sig(rpsOf(absent) / rpsOf(refused))}\n`,
  );
  await L.close();
  await P.close();
  process.stdout.write(
    `${JSON.stringify({
      bench: 'gateway',
      rps_labels: Math.round(rpsL),
      rps_plain: Math.round(rpsP),
      overhead: sig(overhead),
      p99_ms_labels: p99L,
      rps_isolated: Math.round(rps('isolated')),
      rps_worker: Math.round(rps('worker')),
      overhead_isolated: sig(rpsL / rps('isolated')),
      cpu_ratio_isolated: sig(cpuOf('isolated') / cpuOf('labels')),
      cpu_us_labels: sig(cpuM.labels),
      cpu_us_plain: sig(cpuM.plain),
      cpu_ratio: sig(cpuM.ratio),
      cpu_us_main_labels: sig(cpuM.mainLabels),
      cpu_us_main_plain: sig(cpuM.mainPlain),
      cpu_ratio_main: sig(cpuM.mainRatio),
    })}\n`,
  );
}
