// A multi-tenant pipeline that passes the check: `npx sluice check examples/pipelines/tenants.mjs`
import { Label } from 'sluice';
import {
  Pipeline,
  from,
  filter,
  keyBy,
  reduce,
  declassify,
  minRecords,
  toConsole,
} from 'sluice/operators';

const p = new Pipeline({ name: 'tenants' });
const raw = p.tag('raw');
const tenants = p.family('tenant');
const events = from(
  [
    { tenant: 'acme', ms: 120 },
    { tenant: 'globex', ms: 80 },
    { tenant: 'acme', ms: 300 },
    { tenant: 'acme', ms: 90 },
    { tenant: 'globex', ms: 40 },
  ],
  { label: Label.secrecy(raw.tag), name: 'requests' },
);
const perTenant = events.pipe(
  filter((e) => e.ms > 50, { name: 'slow' }),
  keyBy((e) => e.tenant, tenants, { name: 'by-tenant' }),
  reduce((a, e) => ({ tenant: e.tenant, n: a.n + 1 }), { tenant: '', n: 0 }, { name: 'count' }),
);
// Each tenant's count goes to that tenant only; the public sees tenants with ≥ 2 slow requests.
p.output(
  perTenant,
  toConsole({ label: Label.secrecy(raw.tag), perKey: tenants, name: 'tenant-console' }),
);
p.output(
  perTenant.pipe(
    declassify({ privileges: [raw.minus], families: [tenants], policy: minRecords(2, (c) => c.n) }),
  ),
  toConsole({ name: 'public-console' }),
);
export default p;
