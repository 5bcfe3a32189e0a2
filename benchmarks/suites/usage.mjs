// Usage: the per-request cost of the rate-limit check every API call makes,
// of the write quota every user write pays (private.consume_quota), and of
// recording one model call (usage_logs, daily_usage, credits). Each target
// case is judged against its function floor (the same rows inside the
// cheapest function the project's rules allow) and its bare floor (the same
// rows by one bare statement); floors live in schema bench_floor of the bench
// database only.
import { asRequest, asServiceRequest, benchUserUuid, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const name = 'usage';

const users = 10_000;
// Every user's api_general window exists before the run (the steady state:
// check_rate_limit's fast path, one UPDATE), and at basic's 100 a minute
// 10,000 users stay far under the limit whatever the run's length.
const rateLimitUsers = users;

// record_usage's arguments in the cases below, and the row its floors write:
// gpt-4o-mini (0.15 / 0.075 cached / 0.60 per 1M), 1,200 input tokens of which
// 200 cached, 300 output, 850 ms.
const recordArgs = `'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850`;

// The same rows record_usage writes for those arguments (usage row, day,
// balance), reading the model's prices and the user's plan anchor as it does:
// one statement of data-modifying CTEs. $1 is the user, $2 p_now.
const recordUsageWrites = (user, now) => `
with m as (
  select m.model_id, m.provider, m.input_pricing_per_million_tokens as input_price,
         m.output_pricing_per_million_tokens as output_price,
         coalesce(m.cached_input_pricing_per_million_tokens, m.input_pricing_per_million_tokens) as cached_price
    from public.model_config as m where m.model_id = 'gpt-4o-mini'
), log as (
  insert into public.usage_logs (user_id, agent_type, model_used, provider, input_tokens, output_tokens, cached_input_tokens,
    reasoning_tokens, total_tokens, input_cost, output_cost, total_cost, input_price_per_million, output_price_per_million,
    cached_input_price_per_million, request_timestamp, response_timestamp, duration_ms, metadata)
  select ${user}, 'chat_model_agent', m.model_id, m.provider, 1200, 300, 200, 0, 1500,
         (1000 * m.input_price + 200 * m.cached_price) / 1000000, 300 * m.output_price / 1000000,
         (1000 * m.input_price + 200 * m.cached_price + 300 * m.output_price) / 1000000,
         m.input_price, m.output_price, m.cached_price, ${now} - interval '850 milliseconds', ${now}, 850, '{}'::jsonb
    from m
  returning user_id, model_used, total_tokens, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, total_cost
), daily as (
  insert into public.daily_usage as d (user_id, date, model_name, total_tokens, input_tokens, output_tokens,
    cached_input_tokens, reasoning_tokens, total_cost, requests_count)
  select log.user_id, (${now} at time zone 'UTC')::date, log.model_used, log.total_tokens, log.input_tokens, log.output_tokens,
         log.cached_input_tokens, log.reasoning_tokens, log.total_cost, 1 from log
  on conflict (user_id, date, model_name) do update
     set total_tokens = d.total_tokens + excluded.total_tokens, input_tokens = d.input_tokens + excluded.input_tokens,
         output_tokens = d.output_tokens + excluded.output_tokens,
         cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
         reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens, total_cost = d.total_cost + excluded.total_cost,
         requests_count = d.requests_count + 1, updated_at = ${now}
)
insert into private.credit_balances as b (user_id, day, day_spent, month_start, month_spent, updated_at)
select log.user_id, (${now} at time zone 'UTC')::date, log.total_cost,
       coalesce((select up.reset_date from public.user_plans as up where up.user_id = ${user} and up.active), date '2000-01-01'),
       log.total_cost, ${now}
  from log
on conflict (user_id) do update
   set day_spent = b.day_spent + excluded.day_spent, month_spent = b.month_spent + excluded.month_spent, updated_at = ${now}`;

// check_rate_limit's row update: the user's api_general window (rewritten
// with the same values; the floor has no rule, no arithmetic, no answer).
const rateLimitRowUpdate = (user) =>
  `update private.rate_limit_state as s set tat = s.tat, tat_remainder = s.tat_remainder where s.user_id = ${user} and s.bucket = 'api_general:60'`;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // Half the users on pro, so plan resolution is exercised both ways.
  ctx.sql(`
    insert into public.user_plans (user_id, plan_name, reset_date)
    select ${benchUserUuid('n')}, 'pro', current_date
      from generate_series(1, ${users}, 2) as n
    on conflict (user_id) do nothing`);
  // Every user's api_general and telemetry windows exist (a full quota: tat
  // in the past), as for anyone active in the last quarter-hour.
  ctx.sql(`
    insert into private.rate_limit_state (user_id, bucket, tat, tat_remainder)
    select ${benchUserUuid('n')}, b.bucket, now(), 0
      from generate_series(1, ${rateLimitUsers}) as n, (values ('api_general:60'), ('telemetry:60')) as b (bucket)
    on conflict do nothing`);
  // Floors (bench database only): the same rows in the cheapest function the
  // rules allow, with the real call's layering. check_rate_limit: a public
  // security invoker wrapper over a private security definer (the state table
  // is the definer's alone). record_usage: one security invoker function for
  // the service role, committing asynchronously as record_usage does.
  ctx.sql(`
    create schema if not exists bench_floor;
    grant usage on schema bench_floor to authenticated, service_role;
    create or replace function bench_floor.rate_limit_row_update(p_user_id uuid) returns void
    language plpgsql volatile security definer set search_path = '' as $$
    begin
      ${rateLimitRowUpdate('p_user_id')};
    end $$;
    create or replace function bench_floor.check_rate_limit(p_user_id uuid) returns void
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      perform bench_floor.rate_limit_row_update(p_user_id);
    end $$;
    create or replace function bench_floor.record_usage(p_user_id uuid, p_now timestamptz default now()) returns void
    language plpgsql volatile security invoker set search_path = '' as $$
    begin
      perform pg_catalog.set_config('synchronous_commit', 'off', true);
      ${recordUsageWrites('p_user_id', 'p_now')};
    end $$;
    revoke execute on all functions in schema bench_floor from public;
    grant execute on all functions in schema bench_floor to service_role;`);
}

// record_usage is called by the server that made the model call, with the
// secret key: a request as the service role on behalf of a random user.
const asServiceFor = (call) => asServiceRequest(call, `\\set u random(1, ${users})\n`);

const userUuid = benchUserUuidOf('u');
const pickRateLimitUser = `\\set u random(1, ${rateLimitUsers})\n`;
const pickUser = `\\set u random(1, ${users})\n`;

const floors = {
  checkRateLimit: 'floor: check_rate_limit\'s row update in public invoker -> private definer functions (server-side)',
  checkRateLimitBare: 'bare floor: check_rate_limit\'s row update, one statement (server-side)',
  recordUsage: 'floor: record_usage\'s reads and writes in one function, one statement (server-side)',
  recordUsageBare: 'bare floor: record_usage\'s reads and writes, one statement of data-modifying CTEs (server-side)',
};

export const cases = [
  {
    // The function's own cost: the service role checks for a random user, one
    // statement per transaction like `select 1` (claims set per connection).
    name: 'check_rate_limit (server-side call for a user, consumes)',
    script: `${pickRateLimitUser}select public.check_rate_limit('api_general', 1, ${userUuid});\n`,
    session: serviceSession,
    floor: floors.checkRateLimit,
    bare: floors.checkRateLimitBare,
  },
  {
    name: 'record_usage (server-side call for a user)',
    script: `${pickUser}select public.record_usage(${userUuid}, ${recordArgs});\n`,
    session: serviceSession,
    floor: floors.recordUsage,
    bare: floors.recordUsageBare,
  },
  {
    name: floors.checkRateLimit,
    script: `${pickRateLimitUser}select bench_floor.check_rate_limit(${userUuid});\n`,
    session: serviceSession,
  },
  {
    name: floors.checkRateLimitBare,
    script: `${pickRateLimitUser}${rateLimitRowUpdate(userUuid)};\n`,
  },
  {
    name: floors.recordUsage,
    script: `${pickUser}select bench_floor.record_usage(${userUuid});\n`,
    session: serviceSession,
  },
  {
    // asynchronous commit, as record_usage commits
    name: floors.recordUsageBare,
    script: `${pickUser}${recordUsageWrites(userUuid, 'now()').trim().replace(/\n\s*/g, ' ')};\n`,
    session: { role: 'postgres', settings: { synchronous_commit: 'off' } },
  },
  {
    name: 'check_rate_limit (as a user, consumes)',
    script: asRequest(`select public.check_rate_limit('api_general');`, { users: rateLimitUsers }),
  },
  {
    name: 'get_rate_limit_status (as a user, read-only)',
    script: asRequest(`select public.get_rate_limit_status('api_general');`, { users: rateLimitUsers }),
  },
  {
    // The write quota every user write pays (record_metric, track_event,
    // create_message ...), in the request frame of such a write.
    name: 'consume_quota (as a user, telemetry)',
    script: asRequest(`select private.consume_quota('telemetry');`, { users }),
  },
  {
    name: 'record_usage (service role request)',
    script: asServiceFor(`select public.record_usage(${userUuid}, ${recordArgs});`),
  },
  {
    name: 'check_credits (as a user)',
    script: asRequest(`select public.check_credits();`, { users }),
  },
];
