import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('behaves like an array queue under any mix of pushes and takes (incl. compaction)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3000), { maxLength: 12 }), (bursts) => {
        const q = new Fifo();
        const model: number[] = [];
        let n = 0;
        for (const [i, b] of bursts.entries()) {
          for (let k = 0; k < b; k++) {
            q.push(n);
            model.push(n++);
          }
          const takes = i % 2 === 0 ? b : Math.floor(model.length / 2);
          for (let k = 0; k < takes && model.length > 0; k++) assert.equal(q.take(), model.shift());
          assert.equal(q.size, model.length);
        }
        assert.equal(q.clear(), model.length);
        assert.equal(q.size, 0);
      }),
      { numRuns: 50 },
    );
  });
});
