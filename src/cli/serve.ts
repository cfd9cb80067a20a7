/**
 * `sluice serve --config FILE [--port N]`: load and validate the gateway configuration, load the
 * app module it names (if any), start the gateway and print its URL. Thin over `sluice/gateway`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine, type TagGrant } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { Label } from '../labels.js';
import { loadConfig, type GatewayConfig } from '../gateway/config.js';
import { handlerScript } from '../gateway/handler-guest.js';
import { ModuleRefusedError } from '../isolation/module-source.js';
import { Gateway, type Route } from '../gateway/gateway.js';
import { createTags } from '../gateway/principals.js';
import type { StreamRoute } from '../gateway/sse.js';
import { FacetedStore } from '../store/faceted-store.js';

/** What an app module's default export is given. */
export interface AppHost {
  readonly engine: Engine;
  readonly tags: ReadonlyMap<string, TagGrant>;
  /** A label from configured tag names. */
  label(spec: { secrecy?: readonly string[]; integrity?: readonly string[] }): Label;
}

/** What an app module's default export returns. */
export interface AppDefinition {
  readonly routes?: readonly Route<unknown>[];
  readonly streams?: readonly StreamRoute[];
  /** The store at a label; default: the SQLite faceted store under `--data-dir`. */
  readonly storeAt?: (label: Label) => unknown;
}

export interface ServeOptions {
  readonly config: string;
  readonly port?: number;
  readonly host?: string;
  /** Where the default SQLite store keeps its file (default `.sluice-data`). */
  readonly dataDir?: string;
}

async function loadApp(file: string, host: AppHost): Promise<AppDefinition> {
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new ConfigError(`app ${file}: the default export must be a function (host) => app`);
  }
  const app = (await (mod.default as (h: AppHost) => unknown)(host)) as AppDefinition | null;
  if (typeof app !== 'object' || app === null) {
    throw new ConfigError(`app ${file}: the default export must return { routes, streams }`);
  }
  return app;
}

/**
 * The configuration's `routes`: each handler module read (relative to the configuration file)
 * and checked now, so a refused module stops the start with the route's path in the error.
 */
async function codeRoutes(config: GatewayConfig, dir: string): Promise<Route<unknown>[]> {
  const out: Route<unknown>[] = [];
  for (const [i, r] of config.routes.entries()) {
    const { method, path, module, timeoutMs, ...options } = r;
    const file = resolve(dir, module);
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch {
      throw new ConfigError(`routes[${String(i)}].module: cannot read ${file}`);
    }
    try {
      handlerScript(source);
    } catch (e) {
      if (!(e instanceof ModuleRefusedError)) throw e;
      throw new ConfigError(`routes[${String(i)}].module (${module}): ${e.message}`);
    }
    out.push({
      method,
      path,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      code: { source, ...options },
    });
  }
  return out;
}

/** Start the gateway; resolves with it once it listens. */
export async function serve(o: ServeOptions): Promise<Gateway<unknown>> {
  const config = await loadConfig(o.config);
  const engine = new Engine();
  const tags = createTags(engine, config.tags);
  const host: AppHost = {
    engine,
    tags,
    label: (spec) =>
      Label.of({
        secrecy: (spec.secrecy ?? []).map((n) => tagOf(tags, n)),
        integrity: (spec.integrity ?? []).map((n) => tagOf(tags, n)),
      }),
  };
  const dir = dirname(o.config);
  const routes = await codeRoutes(config, dir);
  const app = config.app === undefined ? {} : await loadApp(resolve(dir, config.app), host);
  routes.push(...(app.routes ?? []));
  // The embedded default: a SQLite faceted store; each handler gets the view at its own label.
  const store =
    app.storeAt === undefined
      ? await FacetedStore.sqlite({ dataDir: resolve(o.dataDir ?? '.sluice-data') })
      : undefined;
  const gateway = await Gateway.create<unknown>({
    config,
    engine,
    tags,
    storeAt: app.storeAt ?? ((label: Label) => store?.at(label)),
    routes,
    ...(app.streams === undefined ? {} : { streams: app.streams }),
  });
  await gateway.listen({
    port: o.port ?? config.server.port,
    host: o.host ?? config.server.host,
  });
  return gateway;
}

function tagOf(tags: ReadonlyMap<string, TagGrant>, name: string) {
  const t = tags.get(name);
  if (t === undefined) throw new ConfigError(`no tag named '${name}'`);
  return t.tag;
}
