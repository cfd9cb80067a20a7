// PUT /records/:patient — the doctor writes a patient's record at that patient's label:
//   PUT /records/alice  with  sluice-label: s=alice
// Run isolated (gateway.json "routes"): this module sees only (req, ctx), and ctx.store is the
// faceted store at the invocation label.
export default async function putRecord(req, ctx) {
  await ctx.store.put(`record:${req.params.patient}`, req.body);
  return { status: 204 };
}
