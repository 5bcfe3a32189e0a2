// Platform primitives: cache reads and writes, the job queue's full cycle,
// and event appends. Cache calls are made the way server-side code makes
// them: one call per transaction with the service role and its claims set
// once per connection (the targets are judged on these, against their floors),
// plus one as a PostgREST request by the service role. Each target has a bare
// floor (the same row read or written, and the same hit counted, by one bare
// statement) and a function floor (the same statement in the cheapest
// function the rules allow).
import { asServiceRequest, serviceSession } from '../harness.mjs';

export const name = 'platform';

const keys = 10_000;
const streams = 100_000;

export async function setup(ctx) {
  ctx.sql(`select public.set_cache('bench:' || n, jsonb_build_object('id', n, 'title', 'video ' || n, 'duration', 600), 3600)
             from generate_series(1, ${keys}) as n`);
  ctx.sql(`select public.create_queue('bench', 'benchmark queue', p_lease_seconds => 60)`);
  // The queue has a history (5,000 completed jobs), as a running queue
  // does. Left empty, vacuum analyze records the jobs table as empty and the
  // run's connections claim by sequential scan as completed jobs pile up.
  ctx.sqlAsService(`
    select count(public.enqueue_job('bench', jsonb_build_object('n', n))) from generate_series(1, 5000) as n;
    do $$ begin
      for i in 1..5 loop  -- claim_jobs hands out at most 1,000 at a time
        perform public.complete_job(j.id, 'setup') from public.claim_jobs('bench', 'setup', 1000) as j;
      end loop;
    end $$;`);
  // The streams exist already (the steady state: appends to known
  // aggregates). Left empty, the harness's vacuum analyze records
  // event_streams as empty, every connection of the run keeps a plan that
  // scans it sequentially, and the figure falls as the table grows.
  ctx.sql(`insert into private.event_streams (aggregate_type, aggregate_id)
           select 'trip', 'trip-' || n from generate_series(1, ${streams}) as n
           on conflict do nothing`);
  // Function floors (bench database only): the cheapest function the
  // project's rules allow (plpgsql, search_path set: advisor lint 0011; the
  // cache is the service role's, so invoker, one layer) around the same
  // work, with nothing else in it. A hit is counted (cache_stats is exact), so
  // the read floor bumps the hit counter as get_cache does; the update floor
  // stores the same value, expiry and time.
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to service_role;
    create or replace function bench_floor.cache_read(p_key text) returns jsonb
    language plpgsql volatile security invoker set search_path = '' as $$
    declare v jsonb;
    begin
      select e.value into v from private.cache_entries as e where e.key = p_key and pg_catalog.nextval('private.cache_hits') > 0;
      return v;
    end $$;
    create or replace function bench_floor.cache_update(p_key text, p_value jsonb, p_ttl_seconds integer) returns void
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      update private.cache_entries as e
         set value = p_value, expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_ttl_seconds), updated_at = pg_catalog.now()
       where e.key = p_key;
    end $$;
    grant execute on all functions in schema bench_floor to service_role;`);
}

export const cases = [
  {
    name: 'get_cache (hit, server-side call)',
    script: `\\set k random(1, ${keys})\nselect public.get_cache('bench:' || :k);\n`,
    session: serviceSession,
    floor: 'floor: the same read in the cheapest function the rules allow (plpgsql, search_path set)',
    bare: 'floor: primary-key read of one cache row, hit counted (bare statement)',
    latency: true,
  },
  {
    name: 'set_cache (overwrite, TTL, server-side call)',
    script: `\\set k random(1, ${keys})\nselect public.set_cache('bench:' || :k, '{"id":1,"title":"video","duration":600}', 3600);\n`,
    session: serviceSession,
    floor: 'floor: the same update in the cheapest function the rules allow (plpgsql, search_path set)',
    bare: 'floor: update of one cache row (bare statement)',
    latency: true,
  },
  {
    name: 'floor: primary-key read of one cache row, hit counted (bare statement)',
    script: `\\set k random(1, ${keys})\nselect e.value from private.cache_entries as e where e.key = 'bench:' || :k and nextval('private.cache_hits') > 0;\n`,
    session: serviceSession,
  },
  {
    name: 'floor: update of one cache row (bare statement)',
    script: `\\set k random(1, ${keys})\nupdate private.cache_entries as e set value = '{"id":1,"title":"video","duration":600}', expires_at = now() + make_interval(secs => 3600), updated_at = now() where e.key = 'bench:' || :k;\n`,
    session: serviceSession,
  },
  {
    name: 'floor: the same read in the cheapest function the rules allow (plpgsql, search_path set)',
    script: `\\set k random(1, ${keys})\nselect bench_floor.cache_read('bench:' || :k);\n`,
    session: serviceSession,
  },
  {
    name: 'floor: the same update in the cheapest function the rules allow (plpgsql, search_path set)',
    script: `\\set k random(1, ${keys})\nselect bench_floor.cache_update('bench:' || :k, '{"id":1,"title":"video","duration":600}', 3600);\n`,
    session: serviceSession,
  },
  {
    name: 'get_cache as a service-role API request',
    script: `\\set k random(1, ${keys})\n${asServiceRequest(`select public.get_cache('bench:' || :k);`)}`,
  },
  {
    name: 'increment_cache (rate-limit counter)',
    script: `\\set k random(1, ${keys})\nselect public.increment_cache('bench-counter-' || :k, 60);\n`,
    session: serviceSession,
  },
  {
    // One loop = one job through its whole life: enqueue, claim (lease), complete.
    name: 'job enqueue + claim + complete (4 workers; tps = jobs/s)',
    clients: 4,
    session: serviceSession,
    script: `select public.enqueue_job('bench', '{"video":"v1"}');
select coalesce((select id from public.claim_jobs('bench', 'w' || :client_id, 1)), 0) as job_id \\gset
\\if :job_id > 0
select public.complete_job(:job_id, 'w' || :client_id);
\\endif
`,
  },
  {
    name: 'append_event (100k streams)',
    script: `\\set a random(1, ${streams})\nselect public.append_event('trip-' || :a, 'trip', 'trip_updated', '{"fare":5000}');\n`,
    session: serviceSession,
    latency: true,
  },
];
