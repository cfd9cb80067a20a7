import { Engine } from '../../engine/engine.js';
import type { UnitContext } from '../../engine/unit-context.js';
import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import { Emitter } from '../source.js';
import { opInit, Stream } from '../stream.js';

export interface TopicSourceOptions {
  /** The label the subscribing unit runs at (default public): it sees only events and parts
   * that flow to it, and emits every value at it. */
  readonly label?: Label;
  /** The source's name, and the name of its engine unit (unique in the engine while it runs). */
  readonly name?: string;
}

/** The visible parts of one event, by name (the newest part wins a name). */
export type TopicValue = Readonly<Record<string, unknown>>;

/** Check the engine and topic arguments of `fromTopic` / `toTopic`. */
export function checkTopic(kind: string, engine: unknown, topic: unknown): void {
  if (!(engine instanceof Engine)) throw new ConfigError(`${kind}: engine must be an Engine`);
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new ConfigError(`${kind}: topic must be a non-empty string`);
  }
}

/**
 * An engine subscription as a source: while the pipeline runs, an engine unit at the source's
 * label subscribes to `topic` and emits each event it receives as a frozen plain object of the
 * parts it may see (`view.toJSON()`); parts above its label are absent, exactly as for any unit.
 * The stream never completes by itself: it ends when the run is stopped (`run.stop()`), and
 * the unit is closed then. Events arrive while publishers publish: a full sink cannot slow the
 * engine down (use the engine's own backpressure, `publish() === false`, upstream).
 *
 * A pipeline that publishes (`toTopic`) to a topic it also subscribes to is a cycle, which the
 * static check rejects.
 */
export function fromTopic<T = TopicValue>(
  engine: Engine,
  topic: string,
  options: TopicSourceOptions = {},
): Stream<T> {
  const kind = 'fromTopic';
  checkTopic(kind, engine, topic);
  return new Stream<T>(
    opInit(kind, options, {
      inputs: [],
      subscribes: topic,
      start: async (ctx) => {
        const e = new Emitter<T>(ctx, undefined);
        let unit: UnitContext | undefined;
        try {
          unit = engine.unit({ name: ctx.node.name, label: ctx.label }, (u) => {
            u.subscribe(topic, (view) => {
              e.emit(Object.freeze(view.toJSON()) as T);
            });
          });
          await ctx.rt.whenStopped();
          e.end();
        } catch (err) {
          e.fail(err);
        } finally {
          unit?.close();
        }
      },
    }),
  );
}
