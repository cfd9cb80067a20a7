import type { TradingReport } from '../demo/trading.js';

/** A readable summary of the trading demo. */
export function printTradingReport(r: TradingReport): void {
  console.log(`Sluice trading demo: ${String(r.ticks)} ticks\n`);
  console.log('What each unit could see:');
  console.table(
    Object.fromEntries(
      Object.entries(r.seen).map(([unit, s]) => [
        unit,
        { events: s.events, 'visible parts': s.parts.join(', ') },
      ]),
    ),
  );
  if (
    r.seen.snoop === undefined ||
    r.seen.snoop.parts.every((p) => p === 'price' || p === 'volume')
  ) {
    console.log(
      'snoop (public) received no order and no fill: only the declassified trade prints.',
    );
  }
  console.log(
    `\nfills: alice ${String(r.fills.alice)}, bob ${String(r.fills.bob)} (each desk sees only its own)`,
  );
  console.log(`public trade prints: ${String(r.prints)}, volume ${String(r.printVolume)}`);
  console.log(
    `regulator attempts to leak orders to the public feed refused: ${String(r.refusedRegulatorLeaks)}`,
  );
  console.log('\naudit log (counts by kind):');
  console.table(r.audit);
}
