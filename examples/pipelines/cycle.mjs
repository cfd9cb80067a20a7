// A pipeline the check rejects (exit code 1): it publishes to the engine topic it reads from,
// a cycle. `npx sluice check examples/pipelines/cycle.mjs`
import { Pipeline, fromTopic, map, toTopic } from 'sluice/operators';

const p = new Pipeline({ name: 'echo' });
p.output(
  fromTopic(p.engine, 'ticks', { name: 'read-ticks' }).pipe(map((t) => t, { name: 'echo' })),
  toTopic(p.engine, 'ticks', { name: 'write-ticks' }),
);
export default p;
