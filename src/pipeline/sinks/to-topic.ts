import type { Engine } from '../../engine/engine.js';
import type { UnitContext } from '../../engine/unit-context.js';
import { ConfigError } from '../../errors.js';
import type { Label } from '../../labels.js';
import type { InstanceContext } from '../node.js';
import { SinkBase, sinkNode, type SinkDef } from '../sink.js';
import { checkTopic } from '../sources/from-topic.js';

export interface TopicSinkOptions {
  /** The sink's clearance and the label of the unit that publishes (default public). */
  readonly label?: Label;
  /** The sink's name, and the name of its engine unit (unique in the engine while it runs). */
  readonly name?: string;
}

class TopicSink extends SinkBase {
  readonly #unit: UnitContext;
  readonly #topic: string;
  #waiting = false;

  constructor(ctx: InstanceContext, engine: Engine, topic: string) {
    super(ctx);
    this.#topic = topic;
    this.#unit = engine.unit({ name: ctx.node.name, label: ctx.label });
  }

  protected write(v: unknown): void {
    const unit = this.#unit;
    // One part `value` at the unit's label, which is the sink's clearance.
    if (unit.publish(this.#topic, unit.event().add('value', v)) || this.#waiting) return;
    // The engine's queue is full: sources wait until it drains.
    this.#waiting = true;
    this.rt.busy();
    void unit.ready().then(() => {
      this.#waiting = false;
      this.rt.idle();
    });
  }

  protected override close(): void {
    this.#unit.close();
    this.ended();
  }
}

/**
 * A sink that publishes each value it may receive on an engine topic, as an event with one part
 * `value` (deeply frozen; it must be a part value: JSON-like data or bigint) at the sink's label,
 * from an engine unit at that label. Engine subscribers below that label never see the events.
 * A value that is not a part value fails the sink (the run's report says so).
 */
export function toTopic<T>(
  engine: Engine,
  topic: string,
  options: TopicSinkOptions = {},
): SinkDef<T> {
  const kind = 'toTopic';
  checkTopic(kind, engine, topic);
  if ((options as { perKey?: unknown }).perKey !== undefined) {
    throw new ConfigError(`${kind}: per-key sinks are not supported; declassify or map first`);
  }
  return sinkNode<T>(kind, options, (ctx) => new TopicSink(ctx, engine, topic), {
    publishes: topic,
  });
}
