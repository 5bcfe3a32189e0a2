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
  // Function floors (bench database only): the layers create_transaction has
  // (a public invoker wrapper over a private definer, both plpgsql with
  // search_path set; transactions are written only by the definer) around
  // the same rows and nothing else: a new transaction's idempotency key,
  // transaction and creation event with the same content; a replay's read of
  // the key joined to its transaction; a user's call also spends one unit of
  // the write quota (its rate-limit state row), the work every user write
  // path must do.
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to authenticated, service_role;
    create or replace function bench_floor.transaction_write(p_user_id uuid, p_type text, p_amount numeric, p_currency text,
                                                             p_idempotency_key text, p_actor_id uuid, p_actor_role text, p_quota boolean)
    returns public.transactions
    language plpgsql volatile security definer set search_path = '' as $$
    declare
      v_now timestamptz := pg_catalog.now();
      v_id uuid := ${uuidV7Qualified};
      v_tx public.transactions;
    begin
      if p_quota then
        perform private.consume_quota('writes');
      end if;
      if p_type = 'debit' then  -- a debit's hold: the balance row
        update public.account_balances as b set balance = b.balance - p_amount, updated_at = v_now
         where b.user_id = p_user_id and b.currency = p_currency;
      end if;
      insert into private.transaction_idempotency_keys (user_id, idempotency_key, transaction_id, transaction_created_at)
      values (p_user_id, p_idempotency_key, v_id, v_now);
      with event as (
        insert into public.transaction_events (created_at, transaction_id, user_id, from_status, to_status, actor_id, actor_role, correlation_id)
        values (v_now, v_id, p_user_id, null, 'pending', p_actor_id, p_actor_role, null)
      )
      insert into public.transactions (id, created_at, user_id, type, amount, currency, status, idempotency_key, updated_at)
      values (v_id, v_now, p_user_id, p_type, p_amount, p_currency, 'pending', p_idempotency_key, v_now)
      returning * into v_tx;
      return v_tx;
    end $$;
    create or replace function bench_floor.create_transaction(p_user_id uuid, p_type text, p_amount numeric, p_currency text, p_idempotency_key text)
    returns public.transactions
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      return bench_floor.transaction_write(p_user_id, p_type, p_amount, p_currency, p_idempotency_key, null, 'service_role', false);
    end $$;
    create or replace function bench_floor.user_create_transaction(p_type text, p_amount numeric, p_currency text, p_idempotency_key text)
    returns public.transactions
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      return bench_floor.transaction_write(auth.uid(), p_type, p_amount, p_currency, p_idempotency_key, auth.uid(), 'authenticated', true);
    end $$;
    create or replace function bench_floor.transaction_replay_read(p_user_id uuid, p_idempotency_key text, p_quota boolean)
    returns public.transactions
    language plpgsql volatile security definer set search_path = '' as $$
    declare v_tx public.transactions;
    begin
      if p_quota then
        perform private.consume_quota('writes');
      end if;
      select t.* into v_tx
        from private.transaction_idempotency_keys as k
        join public.transactions as t on t.id = k.transaction_id and t.created_at = k.transaction_created_at
       where k.user_id = p_user_id and k.idempotency_key = p_idempotency_key;
      return v_tx;
    end $$;
    create or replace function bench_floor.transaction_replay(p_user_id uuid, p_idempotency_key text)
    returns public.transactions
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      return bench_floor.transaction_replay_read(p_user_id, p_idempotency_key, false);
    end $$;
    create or replace function bench_floor.user_transaction_replay(p_idempotency_key text)
    returns public.transactions
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      return bench_floor.transaction_replay_read(auth.uid(), p_idempotency_key, true);
    end $$;
    revoke execute on all functions in schema bench_floor from public;
    grant execute on all functions in schema bench_floor to authenticated, service_role;`);
}

// create_transaction is called by a backend with the secret key (or by a
// user for themselves): the targeted figure is the server-side call, one
// statement per transaction like `select 1`, the service role creating a
// transaction for a random user.
const userUuid = benchUserUuidOf('u');
// private.uuid_v7() written out (as create_transaction does), for the bare-SQL floor
const uuidV7Of = (p) =>
  `${p}encode(${p}set_bit(${p}set_bit(${p}overlay(${p}uuid_send(${p}gen_random_uuid()), ${p}substr(${p}int8send(${p}floor(extract(epoch from ${p}clock_timestamp()) * 1000)::bigint), 3), 1, 6), 52, 1), 53, 1), 'hex')::uuid`;
const uuidV7 = uuidV7Of('');
const uuidV7Qualified = uuidV7Of('pg_catalog.');

export const cases = [
  {
    name: 'create_transaction (new key, server-side call for a user)',
    script: `\\set u random(1, ${users})\nselect public.create_transaction(${userUuid}, 'credit', 10, 'USD', gen_random_uuid()::text);\n`,
    session: serviceSession,
    floor: 'floor: the same three rows in the same two function layers (server-side, service role)',
    bare: 'floor: the same three rows as one bare SQL statement (no function)',
  },
  {
    // a backend retrying a request: the key is known, the same transaction comes back
    name: 'create_transaction (replayed key, server-side call for a user)',
    script: `\\set u random(1, ${users})\nselect public.create_transaction(${userUuid}, 'credit', 1, 'USD', 'bench-replay');\n`,
    session: serviceSession,
    floor: 'floor: the key joined to its transaction in the same two function layers (server-side, service role)',
    bare: 'floor: the key joined to its transaction, bare statement (server-side, service role)',
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
    name: 'floor: the same three rows in the same two function layers (server-side, service role)',
    script: `\\set u random(1, ${users})\nselect bench_floor.create_transaction(${userUuid}, 'credit', 10, 'USD', gen_random_uuid()::text);\n`,
    session: serviceSession,
  },
  {
    name: 'floor: the key joined to its transaction in the same two function layers (server-side, service role)',
    script: `\\set u random(1, ${users})\nselect bench_floor.transaction_replay(${userUuid}, 'bench-replay');\n`,
    session: serviceSession,
  },
  {
    name: 'floor: the key joined to its transaction, bare statement (server-side, service role)',
    script:
      `\\set u random(1, ${users})\n` +
      `select t.* from private.transaction_idempotency_keys as k ` +
      `join public.transactions as t on t.id = k.transaction_id and t.created_at = k.transaction_created_at ` +
      `where k.user_id = ${userUuid} and k.idempotency_key = 'bench-replay';\n`,
  },
  {
    // what any request costs before it does anything: begin, role and claims, commit
    name: 'request framing only (select 1 as a user)',
    script: asRequest(`select 1;`, { users }),
  },
  // A user's own calls, as API requests by random users (a server-side
  // session has one user, whose single quota row every client would queue
  // on). Their function floors are the same request around the same rows in
  // the same two layers, plus the unit of the write quota every user write
  // spends (private.consume_quota, the usage domain's: its state row has no
  // bare-SQL equivalent here, so these have no bare floor).
  {
    name: 'create_transaction (new key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'credit', 10, 'USD', gen_random_uuid()::text);`, { users }),
    floor: 'floor: the same three rows and the quota unit in the same two function layers (as a user)',
  },
  {
    name: 'create_transaction (debit, new key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'debit', 0.01, 'USD', gen_random_uuid()::text);`, { users }),
    floor: 'floor: the same three rows, the balance hold and the quota unit in the same two function layers (as a user)',
  },
  {
    name: 'create_transaction (replayed key, as a user)',
    script: asRequest(`select public.create_transaction((select auth.uid()), 'credit', 1, 'USD', 'bench-replay');`, { users }),
    floor: 'floor: the quota unit and the key joined to its transaction in the same two function layers (as a user)',
  },
  {
    name: 'floor: the same three rows and the quota unit in the same two function layers (as a user)',
    script: asRequest(`select bench_floor.user_create_transaction('credit', 10, 'USD', gen_random_uuid()::text);`, { users }),
  },
  {
    name: 'floor: the same three rows, the balance hold and the quota unit in the same two function layers (as a user)',
    script: asRequest(`select bench_floor.user_create_transaction('debit', 0.01, 'USD', gen_random_uuid()::text);`, { users }),
  },
  {
    name: 'floor: the quota unit and the key joined to its transaction in the same two function layers (as a user)',
    script: asRequest(`select bench_floor.user_transaction_replay('bench-replay');`, { users }),
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
