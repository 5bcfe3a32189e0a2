// Usage history at any size: `days` UTC days before today of model calls by
// the bench users (usage_logs, `rows` of them, each user about rows / users),
// the daily_usage rows they add up to, and half the users on the pro plan
// (as the usage suite, benchmarks/suites/usage.mjs). Today is left empty, so
// record_usage meets the state of a day's first call and then its steady
// state, as in production. Create the bench users first.
import { benchUserUuid } from '../harness.mjs';
import { dropIndexes, rebuildIndexes, runPhases, triggersOff, triggersOn } from './bulk.mjs';

/** The load as phases ({ name, sql }). Options: users, rows, days, superuser (see bulk.mjs). */
export function usagePhases({ users = 10_000, rows = 1_000_000, days = 30, superuser = false } = {}) {
  const perDay = rows / days;
  return [
    {
      name: 'plans',
      sql: `insert into public.user_plans (user_id, plan_name, reset_date)
            select ${benchUserUuid('n')}, 'pro', current_date
              from generate_series(1, ${users}, 2) as n
            on conflict (user_id) do nothing;`,
    },
    { name: 'drop indexes', sql: `${dropIndexes('public.usage_logs')}\n${dropIndexes('public.daily_usage')}` },
    {
      // call n: user 1 + n % users, on day floor(n / perDay) + 1 before today,
      // at a time of day spread over the day; token counts vary a little
      name: `usage_logs (${rows}, ${days} days)`,
      sql: `${triggersOff('public.usage_logs', { superuser })}
        insert into public.usage_logs (user_id, agent_type, model_used, provider, input_tokens, output_tokens, total_tokens,
                                       input_cost, output_cost, total_cost, input_price_per_million, output_price_per_million,
                                       cached_input_price_per_million, request_timestamp, response_timestamp, duration_ms, created_at)
        select ${benchUserUuid(`1 + n % ${users}`)}, 'chat_model_agent', 'gpt-4o-mini', 'openai', t.input, t.output, t.input + t.output,
               t.input * 0.15 / 1e6, t.output * 0.6 / 1e6, (t.input * 0.15 + t.output * 0.6) / 1e6, 0.15, 0.6, 0.075,
               at - interval '850 milliseconds', at, 850, at
          from generate_series(0, ${rows - 1}) as n,
               lateral (select 1000 + n % 500 as input, 200 + n % 200 as output,
                               (current_date - floor(n / ${perDay})::int - 1)::timestamp at time zone 'UTC'
                                 + ((n % ${Math.ceil(perDay)}) * (86399.0 / ${Math.ceil(perDay)})) * interval '1 second' as at) as t;
        ${triggersOn('public.usage_logs', { superuser })}`,
    },
    {
      name: 'daily_usage (from usage_logs)',
      sql: `${triggersOff('public.daily_usage', { superuser })}
        insert into public.daily_usage (user_id, date, model_name, total_tokens, input_tokens, output_tokens, total_cost,
                                        requests_count, created_at, updated_at)
        select user_id, (request_timestamp at time zone 'UTC')::date, model_used, sum(total_tokens), sum(input_tokens),
               sum(output_tokens), sum(total_cost), count(*), min(created_at), max(created_at)
          from public.usage_logs
         group by 1, 2, 3;
        ${triggersOn('public.daily_usage', { superuser })}`,
    },
    { name: 'rebuild indexes', sql: `${rebuildIndexes('public.usage_logs')}\n${rebuildIndexes('public.daily_usage')}` },
  ];
}

/** Loads usage history; returns { times } (see runPhases). */
export async function loadUsage(ctx, opts = {}) {
  return { times: await runPhases(ctx, 'usage', usagePhases(opts)) };
}
