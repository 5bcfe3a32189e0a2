// Integrations: idempotent transaction creation (the full path: key claim,
// partitioned insert, event), its replay, a debit against a balance, and
// nearby search over 100k locations with PostGIS.
import { asRequest, benchUserUuid, benchUserUuidOf, serviceSession } from '../harness.mjs';

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
    select ${benchUserUuid('n')}, 'USD', 1e12
      from generate_series(1, ${users}) as n
    on conflict (user_id, currency) do update set balance = 1e12`);
  // A known key per user for the replay case.
  ctx.sqlAsService(`
    select public.create_transaction(${benchUserUuid('n')}, 'credit', 1, 'USD', 'bench-replay')
      from generate_series(1, ${users}) as n;`);
}

// create_transaction is called by a backend with the secret key (or by a
// user for themselves): the targeted figure is the server-side call, one
// statement per transaction like `select 1`, the service role creating a
// transaction for a random user.
const userUuid = benchUserUuidOf('u');
// private.uuid_v7() written out (as create_transaction does), for the bare-SQL floor
const uuidV7 = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()), substr(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint), 3), 1, 6), 52, 1), 53, 1), 'hex')::uuid`;

export const cases = [
  {
    name: 'create_transaction (new key, server-side call for a user)',
    script: `\\set u random(1, ${users})\nselect public.create_transaction(${userUuid}, 'credit', 10, 'USD', gen_random_uuid()::text);\n`,
    session: serviceSession,
    target: 0.2,
  },
  // Floors, for reading the figure above (server-side, same run):
  {
    // the least a durable write can cost here: one logged row, synchronous
    // commit, so the commit waits for the WAL flush (fsync)
    name: 'floor: one logged-row UPDATE, synchronous commit (no function)',
    script: `\\set u random(1, ${users})\nupdate public.account_balances set updated_at = now() where user_id = ${userUuid} and currency = 'USD';\n`,
  },
  {
    // the same rows create_transaction writes (key, transaction, event), as one
    // bare statement: no checks, no function, same indexes and WAL
    name: 'floor: the same three rows as one bare SQL statement (no function)',
    script:
      `\\set u random(1, ${users})\n` +
      `with v as materialized (select ${uuidV7} as id, gen_random_uuid()::text as k, now() as at), ` +
      `key as (insert into private.transaction_idempotency_keys (user_id, idempotency_key, transaction_id, transaction_created_at) ` +
      `select ${userUuid}, v.k, v.id, v.at from v), ` +
      `event as (insert into public.transaction_events (created_at, transaction_id, user_id, from_status, to_status, actor_id, actor_role) ` +
      `select v.at, v.id, ${userUuid}, null, 'pending', null, 'service_role' from v) ` +
      `insert into public.transactions (id, created_at, user_id, type, amount, currency, status, idempotency_key, updated_at) ` +
      `select v.id, v.at, ${userUuid}, 'credit', 10, 'USD', 'pending', v.k, v.at from v;\n`,
  },
  {
    // what any request costs before it does anything: begin, role and claims, commit
    name: 'request framing only (select 1 as a user)',
    script: asRequest(`select 1;`, { users }),
  },
  {
    name: 'create_transaction (new key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'credit', 10, 'USD', gen_random_uuid()::text);`, { users }),
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
