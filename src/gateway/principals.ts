/**
 * Principals: who may call the gateway, each with a clearance label (what it may receive) and
 * privileges (genuine Privilege objects on tags the host created), built from the configuration.
 */
import { Authority } from '../authority.js';
import type { Engine, TagGrant } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { Label, type Privilege, type Tag } from '../labels.js';
import { PRIVILEGE_RE, type GatewayConfig } from './config.js';

export interface Principal {
  readonly name: string;
  /** The highest label this principal may receive, and the default invocation label. */
  readonly clearance: Label;
  /** Held by the gateway for the principal's invocations; never handed to handler code. */
  readonly privileges: readonly Privilege[];
  /** Answers relabelling questions with those privileges (e.g. endorsing a requested label). */
  readonly authority: Authority;
}

/** The host's tags by name: those given, plus one created on `engine` for each other name. */
export function createTags(
  engine: Engine,
  names: readonly string[],
  given: ReadonlyMap<string, TagGrant> = new Map(),
): Map<string, TagGrant> {
  const tags = new Map<string, TagGrant>(given);
  for (const n of names) if (!tags.has(n)) tags.set(n, engine.createTag(n));
  return tags;
}

function tagOf(tags: ReadonlyMap<string, TagGrant>, name: string, where: string): TagGrant {
  const t = tags.get(name);
  if (t === undefined) throw new ConfigError(`${where}: unknown tag '${name}'`);
  return t;
}

function privilegeOf(g: TagGrant, suffix: string): Privilege {
  if (suffix === '+') return g.plus;
  if (suffix === '-') return g.minus;
  if (suffix === '+auth') return g.plusAuth;
  return g.minusAuth;
}

/** Build every configured principal (the configuration has been validated). */
export function buildPrincipals(
  config: GatewayConfig,
  tags: ReadonlyMap<string, TagGrant>,
): Map<string, Principal> {
  const out = new Map<string, Principal>();
  for (const [name, p] of Object.entries(config.principals)) {
    const where = `principals.${name}`;
    const pick = (names: readonly string[]): Tag[] =>
      names.map((n) => tagOf(tags, n, `${where}.clearance`).tag);
    const clearance = Label.of({
      secrecy: pick(p.clearance.secrecy),
      integrity: pick(p.clearance.integrity),
    });
    const privileges = p.privileges.map((s) => {
      const m = PRIVILEGE_RE.exec(s);
      if (m === null) throw new ConfigError(`${where}.privileges: bad privilege '${s}'`);
      return privilegeOf(tagOf(tags, m[1] ?? '', `${where}.privileges`), m[2] ?? '');
    });
    out.set(
      name,
      Object.freeze({
        name,
        clearance,
        privileges: Object.freeze(privileges),
        authority: new Authority(privileges),
      }),
    );
  }
  return out;
}
