/**
 * The isolation policy: rules of predicates over probe values → actions, validated at start
 * (zod; every error names the bad field). A rule fires for a unit when every comparison in
 * its `when` holds for `windows` consecutive probe windows (default 1); the agent (agent.ts)
 * then applies its `then`, if that changes anything (an escalation only moves a unit up, a
 * throttle only tightens, quarantine and kill happen once). Rules are tried in order.
 *
 * File format (JSON):
 *   { "rules": [ { "name": "timing-channel", "when": { "serviceSpreadMs": { "gt": 0.5 } },
 *                  "then": { "escalate": 1 } } ] }
 * Actions: { "escalate": 1 | 2 | 3 }, { "throttle": <outputs per second> }, "quarantine", "kill".
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../index.js';
import { PROBE_NAMES, type ProbeName, type ProbeValues } from './probes.js';

const comparison = z
  .strictObject({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'give at least one of gt, gte, lt, lte' });

const predicate = z
  .strictObject(
    Object.fromEntries(PROBE_NAMES.map((n) => [n, comparison.optional()])) as Record<
      ProbeName,
      z.ZodOptional<typeof comparison>
    >,
  )
  .refine((p) => Object.keys(p).length > 0, { message: 'name at least one probe' });

const action = z.union([
  z.literal('quarantine'),
  z.literal('kill'),
  z.strictObject({ escalate: z.union([z.literal(1), z.literal(2), z.literal(3)]) }),
  z.strictObject({ throttle: z.number().positive() }),
]);

const rule = z.strictObject({
  name: z.string().min(1),
  when: predicate,
  then: action,
  windows: z.number().int().min(1).default(1),
});

const policySchema = z.strictObject({ rules: z.array(rule) });

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];
export type PolicyAction = PolicyRule['then'];

/**
 * The default policy (used when no file is given). Thresholds are per window of 64 events.
 * - cpu-hog: mean CPU per event over 2 ms → tier 1 (off the host's thread, under a watchdog).
 * - long-event: one event over 50 ms → tier 1 (the sign of a loop; tier 0 cannot stop one).
 * - timing-channel: service-time spread (IQR) over 0.5 ms → tier 1 (DESIGN §4's probe).
 * - output-flood: outputs per event varying with a std. dev. over 8 → throttle to 1000/s.
 * - probing: 4 or more not-found reads per event → quarantine.
 * - memory-growth: heap grown by over 32 MB → tier 2, then (already there) kill.
 * - failing: half the events of a window throw → kill.
 */
export const DEFAULT_POLICY: Policy = parsePolicy({
  rules: [
    { name: 'cpu-hog', when: { cpuMsPerEvent: { gt: 2 } }, then: { escalate: 1 } },
    { name: 'long-event', when: { serviceMaxMs: { gt: 50 } }, then: { escalate: 1 } },
    { name: 'timing-channel', when: { serviceSpreadMs: { gt: 0.5 } }, then: { escalate: 1 } },
    { name: 'output-flood', when: { outputSpread: { gt: 8 } }, then: { throttle: 1000 } },
    { name: 'probing', when: { notFoundPerEvent: { gte: 4 } }, then: 'quarantine' },
    { name: 'memory-growth', when: { heapGrowthMb: { gt: 32 } }, then: { escalate: 2 } },
    { name: 'memory-growth-kill', when: { heapGrowthMb: { gt: 32 } }, then: 'kill' },
    { name: 'failing', when: { errors: { gte: 32 } }, then: 'kill' },
  ],
});

/** Validate a parsed policy; a ConfigError names every bad field. */
export function parsePolicy(raw: unknown, source = 'isolation policy'): Policy {
  const r = policySchema.safeParse(raw);
  if (r.success) return r.data;
  throw ConfigError.fromIssues(source, r.error.issues);
}

/** Read and validate a JSON policy file. */
export async function loadPolicy(file: string): Promise<Policy> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(
      `cannot read the isolation policy ${file}${e instanceof SyntaxError ? `: ${e.message}` : ''}`,
    );
  }
  return parsePolicy(raw, file);
}

/** The probes of `when` that hold for `v` (all of them, or none if one fails). */
export function matches(when: PolicyRule['when'], v: ProbeValues): ProbeName[] | undefined {
  const hit: ProbeName[] = [];
  for (const name of PROBE_NAMES) {
    const c = when[name];
    if (c === undefined) continue;
    const x = v[name];
    if (c.gt !== undefined && !(x > c.gt)) return undefined;
    if (c.gte !== undefined && !(x >= c.gte)) return undefined;
    if (c.lt !== undefined && !(x < c.lt)) return undefined;
    if (c.lte !== undefined && !(x <= c.lte)) return undefined;
    hit.push(name);
  }
  return hit;
}
