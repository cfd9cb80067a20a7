// GET /stats — how many records the caller may see (the count is over its own projection), and
// how many times this label has asked: module state, one copy per invocation label, so what a
// doctor's requests leave here is never seen by a patient's or the statistician's.
let asked = 0;

export default async function stats(_req, ctx) {
  asked += 1;
  return { body: { records: await ctx.store.count({ prefix: 'record:' }), asked } };
}
