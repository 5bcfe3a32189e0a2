// Integrations: idempotent transaction creation (the full path: key claim,
// partitioned insert, event), its replay, a debit against a balance, and
// nearby search over 100k locations with PostGIS.
import { asRequest } from '../harness.mjs';

export const name = 'integrations';

const users = 10_000;
const locations = 100_000;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // 100k public places spread over a 40 km x 40 km square around Kigali
  // (about 62 per km²): a 1 km radius holds about 200 of them.
  ctx.sql(`
    insert into public.locations (name, category, lat, lng, is_public)
    select 'place ' || g, 'bench', -1.9441 + (random() - 0.5) * 0.36, 30.0619 + (random() - 0.5) * 0.36, true
      from generate_series(1, ${locations}) as g
     where not exists (select 1 from public.locations where category = 'bench')`);
  // Balances for the debit case: every bench user holds plenty of USD.
  ctx.sql(`
    insert into public.account_balances (user_id, currency, balance)
    select ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'USD', 1e12
      from generate_series(1, ${users}) as n
    on conflict (user_id, currency) do update set balance = 1e12`);
  // A known key per user for the replay case.
  ctx.sql(`
    select set_config('request.jwt.claims', '{"role":"service_role"}', false);
    select public.create_transaction(('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'credit', 1, 'USD', 'bench-replay')
      from generate_series(1, ${users}) as n;`);
}

export const cases = [
  {
    // what any request costs before it does anything: begin, role and claims, commit
    name: 'request framing only (select 1 as a user)',
    script: asRequest(`select 1;`, { users }),
  },
  {
    // the cheapest durable write: an assigned xid makes the commit flush WAL.
    // No write request can beat this; on a slow disk it, not the SQL, is the limit.
    name: 'durable commit floor (txid_current as a user)',
    script: asRequest(`select pg_catalog.txid_current();`, { users }),
  },
  {
    name: 'create_transaction (new key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'credit', 10, 'USD', gen_random_uuid()::text);`, { users }),
    target: 0.2,
  },
  {
    name: 'create_transaction (debit, new key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'debit', 0.01, 'USD', gen_random_uuid()::text);`, { users }),
  },
  {
    name: 'create_transaction (replayed key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'credit', 1, 'USD', 'bench-replay');`, { users }),
  },
  {
    name: 'find_nearby_locations (1 km, 100k places, as a user)',
    script: `\\set dlat random(-1000, 1000)\n\\set dlng random(-1000, 1000)\n${asRequest(
      `select count(*) from public.find_nearby_locations(-1.9441 + :dlat / 10000.0, 30.0619 + :dlng / 10000.0, 1000);`,
      { users },
    )}`,
    latency: true,
  },
];
