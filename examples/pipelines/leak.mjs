// A pipeline the check rejects (exit code 1): a public feed cut off by a secret alarm stream
// (the preemption leak). `npx sluice check examples/pipelines/leak.mjs`
import { Label } from 'sluice';
import { Pipeline, from, map, takeUntil, toConsole } from 'sluice/operators';

const p = new Pipeline({ name: 'leaky-prices' });
const alarm = p.tag('alarm');
const prices = from([101, 102, 103], { name: 'prices' });
const alarms = from(['halt'], { label: Label.secrecy(alarm.tag), name: 'secret-alarms' });
p.output(
  prices.pipe(
    takeUntil(alarms),
    map((x) => x * 2, { name: 'double' }),
  ),
  toConsole({ name: 'public-ticker' }),
);
export default p;
