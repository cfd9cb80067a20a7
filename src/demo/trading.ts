/**
 * The trading demo (after DEFCon's trading platform): two traders' strategies, an exchange that
 * matches their secret orders, a public trade-print feed, and a curious unit that tries to read
 * what it should not. Deterministic for a given seed.
 */
import { Engine, FlowViolationError, Label, type SinkRecord } from '../index.js';
import { mulberry32 } from './prng.js';

export interface TradingOptions {
  readonly ticks: number;
  readonly seed: number;
}

export interface TradingReport {
  readonly ticks: number;
  /** What each unit received, by unit: events and distinct part names it could see. */
  readonly seen: Record<string, { events: number; parts: string[] }>;
  readonly fills: { alice: number; bob: number };
  readonly prints: number;
  readonly printVolume: number;
  readonly refusedRegulatorLeaks: number;
  readonly audit: Record<string, number>;
}

export async function runTrading(opts: TradingOptions): Promise<TradingReport> {
  const engine = new Engine();
  const alice = engine.createTag('trader-alice');
  const bob = engine.createTag('trader-bob');
  const exch = engine.createTag('exchange');
  const ALICE = Label.secrecy(alice.tag);
  const BOB = Label.secrecy(bob.tag);
  const BOTH = Label.secrecy(alice.tag, bob.tag);
  const TICKS = Label.integrity(exch.tag); // public, endorsed by the exchange
  const seen: TradingReport['seen'] = {};
  const note = (unit: string, names: string[]) => {
    const s = (seen[unit] ??= { events: 0, parts: [] });
    s.events++;
    for (const n of names) if (!s.parts.includes(n)) s.parts.push(n);
  };

  // Strategies: each trader's orders are secret to that trader.
  for (const [name, label] of [
    ['alice', ALICE],
    ['bob', BOB],
  ] as const) {
    engine.unit({ name: `${name}-strategy`, label }, (ctx) => {
      ctx.subscribe('ticks', (ev) => {
        note(ctx.id, ev.names());
        const price = ev.get('price') as number;
        const buy = name === 'alice' ? price < 100 : price > 100;
        const order = ctx
          .event()
          .add('trader', name)
          .add('side', buy ? 'buy' : 'sell');
        ctx.publish('orders', order.add('qty', 10).add('limit', price));
      });
      ctx.subscribe('fills', (ev) => {
        note(ctx.id, ev.names());
      });
    });
  }

  // The exchange reads both traders' orders, tells each trader only its own fills, and
  // declassifies anonymous trade prints (symbol, price, volume) to the public.
  const book: { buy: number[]; sell: number[] } = { buy: [], sell: [] };
  engine.unit({ name: 'exchange', label: BOTH, privileges: [alice.minus, bob.minus] }, (ctx) => {
    ctx.subscribe('orders', (ev) => {
      note(ctx.id, ev.names());
      const side = ev.get('side') === 'buy' ? 'buy' : 'sell';
      const other = side === 'buy' ? book.sell : book.buy;
      const trader = ev.get('trader') as string;
      if (other.length > 0) {
        other.pop();
        const mine = trader === 'alice' ? ALICE : BOB;
        const fill = ctx
          .event()
          .add('qty', ev.get('qty'), mine)
          .add('price', ev.get('limit'), mine);
        ctx.publish('fills', fill, { presence: mine });
        const print = ctx
          .event()
          .add('price', ev.get('limit'), Label.public)
          .add('volume', 10, Label.public);
        ctx.publish('prints', print, { presence: Label.public });
      } else {
        (side === 'buy' ? book.buy : book.sell).push(1);
      }
    });
  });

  // A curious public unit subscribes to orders and fills: it is delivered nothing.
  engine.unit({ name: 'snoop' }, (ctx) => {
    ctx.subscribe('orders', (ev) => {
      note(ctx.id, ev.names());
    });
    ctx.subscribe('fills', (ev) => {
      note(ctx.id, ev.names());
    });
    ctx.subscribe('prints', (ev) => {
      note(ctx.id, ev.names());
    });
  });

  // A regulator cleared for both traders sees everything, but cannot leak it to a public sink.
  let prints = 0;
  let printVolume = 0;
  let refusedRegulatorLeaks = 0;
  const publicFeed = engine.sink('public-feed', Label.public, (r: SinkRecord) => {
    prints++;
    printVolume += r.parts.find((p) => p.name === 'volume')?.value as number;
  });
  engine.unit({ name: 'regulator', label: BOTH }, (ctx) => {
    ctx.subscribe('orders', (ev) => {
      note(ctx.id, ev.names());
      try {
        ctx.output(publicFeed, ctx.event().add('trader', ev.get('trader')));
      } catch (e) {
        if (!(e instanceof FlowViolationError)) throw e;
        refusedRegulatorLeaks++;
      }
    });
  });
  engine.unit({ name: 'feed-publisher' }, (ctx) => {
    ctx.subscribe('prints', (ev) => {
      ctx.output(publicFeed, ctx.derive(ev));
    });
  });

  const fills = { alice: 0, bob: 0 };
  engine.unit({ name: 'alice-desk', label: ALICE }, (ctx) =>
    ctx.subscribe('fills', () => {
      fills.alice++;
    }),
  );
  engine.unit({ name: 'bob-desk', label: BOB }, (ctx) =>
    ctx.subscribe('fills', () => {
      fills.bob++;
    }),
  );

  const rnd = mulberry32(opts.seed);
  const ticker = engine.unit({ name: 'ticker', label: TICKS });
  let price = 100;
  for (let i = 0; i < opts.ticks; i++) {
    price = Math.max(1, price + Math.round((rnd() - 0.5) * 4));
    if (!ticker.publish('ticks', ticker.event().add('symbol', 'ACME').add('price', price))) {
      await ticker.ready();
    }
  }
  await engine.idle();
  return {
    ticks: opts.ticks,
    seen,
    fills,
    prints,
    printVolume,
    refusedRegulatorLeaks,
    audit: engine.audit.counts(),
  };
}
