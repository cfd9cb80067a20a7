// A small clinic on the Sluice gateway: `npx sluice serve --config examples/clinic/gateway.json`.
// Patients alice and bob, a doctor cleared for both, a statistician cleared for nothing secret.
// Every handler runs at the label fixed when it is invoked (the caller's clearance, or a lower
// one asked for with the `sluice-label` header) and sees the faceted store at that label only.
export default function clinic() {
  return {
    routes: [
      {
        // The doctor writes a patient's record at that patient's label:
        //   PUT /records/alice  with  sluice-label: s=alice
        method: 'PUT',
        path: '/records/:patient',
        handler: async (req, ctx) => {
          await ctx.store.put(`record:${req.params.patient}`, req.body);
          return { status: 204 };
        },
      },
      {
        // Each caller gets the newest facet it may see, or the same "not found" as a missing one.
        method: 'GET',
        path: '/records/:patient',
        handler: async (req, ctx) => {
          const record = await ctx.store.get(`record:${req.params.patient}`);
          return record === undefined ? ctx.notFound() : { body: record };
        },
      },
      {
        // How many records the caller may see: the count is over its own projection only.
        method: 'GET',
        path: '/stats',
        handler: async (_req, ctx) => ({
          body: { records: await ctx.store.count({ prefix: 'record:' }) },
        }),
      },
    ],
  };
}
