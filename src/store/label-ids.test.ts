import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.js';
import { Label } from '../labels.js';
import { idsFlowTo, labelIds, parseLabelIds } from './label-ids.js';

const engine = new Engine();
const TAGS = [0, 1, 2, 3].map((i) => engine.createTag(`ids-${i}`).tag);
const labelArb = fc
  .record({ s: fc.integer({ min: 0, max: 15 }), i: fc.integer({ min: 0, max: 15 }) })
  .map(({ s, i }) =>
    Label.of({
      secrecy: TAGS.filter((_, k) => ((s >> k) & 1) === 1),
      integrity: TAGS.filter((_, k) => ((i >> k) & 1) === 1),
    }),
  );

describe('stored labels (tag ids)', () => {
  it('⊑ over stored ids agrees with Label.flowsTo', () => {
    fc.assert(
      fc.property(labelArb, labelArb, (a, b) => {
        const ia = parseLabelIds(labelIds(a).text);
        assert.equal(idsFlowTo(ia, labelIds(b)), a.flowsTo(b));
      }),
    );
  });

  it('serializes tag ids only, canonically', () => {
    const l = Label.of({ secrecy: [TAGS[1]!, TAGS[0]!] });
    const ids = labelIds(l);
    assert.equal(ids, labelIds(Label.of({ secrecy: [TAGS[0]!, TAGS[1]!] })));
    assert.deepEqual([...ids.secrecy], [TAGS[0]!.id, TAGS[1]!.id].sort());
    assert.ok(!ids.text.includes('ids-'), 'no display names');
  });
});
