import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { Deadlines, deadlinesOf, type Expiring } from './deadlines.js';

/** An entry that records when it expired; `end()` ends it the way an invocation does. */
class Entry implements Expiring {
  deadline = 0;
  ended = false;
  readonly added = performance.now();
  expiredAt: number | undefined;
  expiries = 0;
  expire(): void {
    this.expiries++;
    this.expiredAt = performance.now();
  }
  end(d: Deadlines): void {
    this.ended = true;
    d.release();
  }
}

const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
};

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('deadlines: one queue and one timer per time limit', () => {
  it('an entry that does not end expires, once, and not before its time', async () => {
    const d = new Deadlines(20);
    const a = new Entry();
    d.add(a);
    const b = new Entry();
    d.add(b);
    await until(() => a.expiries > 0 && b.expiries > 0);
    for (const e of [a, b]) {
      assert.equal(e.expiries, 1);
      assert.ok((e.expiredAt ?? 0) - e.added >= 20, 'expired no earlier than the limit');
    }
    assert.equal(d.size, 0);
  });

  it('an entry that ended is never expired, even behind one that expires', async () => {
    const d = new Deadlines(15);
    const slow = new Entry();
    const quick = new Entry();
    d.add(slow);
    d.add(quick);
    quick.end(d);
    assert.equal(d.size, 2, 'kept (marked ended) behind the older running entry');
    await until(() => slow.expiries > 0);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(quick.expiries, 0);
    assert.equal(slow.expiries, 1);
    assert.equal(d.size, 0);
  });

  it('entries added after the timer was armed wait their own full time', async () => {
    const d = new Deadlines(30);
    const first = new Entry();
    d.add(first);
    await new Promise((r) => setTimeout(r, 15));
    const second = new Entry();
    d.add(second);
    await until(() => first.expiries > 0);
    assert.equal(second.expiries, 0, 'the timer that fired for the first did not take the second');
    await until(() => second.expiries > 0);
    assert.ok((second.expiredAt ?? 0) - second.added >= 30);
  });

  it('holds the process open only while an entry is waiting', () => {
    const d = new Deadlines(60_000);
    const before = timeouts();
    const e = new Entry();
    d.add(e);
    assert.equal(timeouts(), before + 1);
    e.end(d);
    assert.equal(timeouts(), before, 'the idle timer is unref’d');
    const f = new Entry();
    d.add(f);
    assert.equal(timeouts(), before + 1, 'and ref’d again for the next entry');
    f.end(d);
    assert.equal(timeouts(), before);
  });

  it('one queue per time limit', () => {
    assert.equal(deadlinesOf(1234), deadlinesOf(1234));
    assert.notEqual(deadlinesOf(1234), deadlinesOf(1235));
    assert.equal(deadlinesOf(1234).ms, 1234);
  });

  it('property: the queue holds exactly the entries from the oldest one still running', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('add' as const), fc.nat({ max: 30 })), { maxLength: 60 }),
        (ops) => {
          const d = new Deadlines(600_000);
          const all: Entry[] = [];
          for (const op of ops) {
            if (op === 'add') {
              const e = new Entry();
              all.push(e);
              d.add(e);
            } else {
              const e = all[op % Math.max(1, all.length)];
              if (e !== undefined && !e.ended) e.end(d);
            }
            const oldest = all.findIndex((e) => !e.ended);
            assert.equal(d.size, oldest < 0 ? 0 : all.length - oldest);
          }
          for (const e of all) if (!e.ended) e.end(d);
          assert.equal(d.size, 0);
          assert.ok(all.every((e) => e.expiries === 0));
        },
      ),
    );
  });
});
