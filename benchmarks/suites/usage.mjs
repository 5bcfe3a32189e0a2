// Usage: the per-request cost of the rate-limit check every API call makes,
// and of recording one model call (usage_logs, daily_usage, credits).
import { asRequest, asServiceRequest, benchUserUuid, benchUserUuidOf, serviceSession } from '../harness.mjs';

export const name = 'usage';

const users = 10_000;
// Rate-limit cases draw from fewer users so that most calls meet an existing
// window (the steady state: one UPDATE) rather than creating one; 2,000 users
// at basic's 100 a minute stay well under the limit for a 10 s run.
const rateLimitUsers = 2_000;

export async function setup(ctx) {
  ctx.createBenchUsers(users);
  // Half the users on pro, so plan resolution is exercised both ways.
  ctx.sql(`
    insert into public.user_plans (user_id, plan_name, reset_date)
    select ${benchUserUuid('n')}, 'pro', current_date
      from generate_series(1, ${users}, 2) as n
    on conflict (user_id) do nothing`);
}

// record_usage is called by the server that made the model call, with the
// secret key: a request as the service role on behalf of a random user.
const asServiceFor = (call) => asServiceRequest(call, `\\set u random(1, ${users})\n`);

const userUuid = benchUserUuidOf('u');

export const cases = [
  {
    // The function's own cost: the service role checks for a random user, one
    // statement per transaction like `select 1` (claims set per connection).
    name: 'check_rate_limit (server-side call for a user, consumes)',
    script: `\\set u random(1, ${rateLimitUsers})\nselect public.check_rate_limit('api_general', 1, ${userUuid});\n`,
    session: serviceSession,
    target: 0.4,
  },
  {
    name: 'record_usage (server-side call for a user)',
    script: `\\set u random(1, ${users})\nselect public.record_usage(${userUuid}, 'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850);\n`,
    session: serviceSession,
    target: 0.25,
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
    // the same call as a whole API request (the target is judged on the
    // server-side call above, which has the shape of `select 1`)
    name: 'record_usage (service role request)',
    script: asServiceFor(`select public.record_usage(${userUuid}, 'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850);`),
  },
  // Floors, for reading the figures above: the least work each kind of call
  // can do on this machine, server-side and in the request shape.
  {
    name: 'floor: one unlogged-row UPDATE (server-side, no function)',
    script:
      `\\set u random(1, ${rateLimitUsers})\n` +
      `update private.rate_limit_state set tat = tat where user_id = ${userUuid} and bucket = 'api_general:60';\n`,
  },
  {
    // record_usage's three row writes as bare statements (no function, no
    // validation, no pricing lookup), asynchronous commit as record_usage uses.
    name: 'floor: record_usage\'s writes alone (usage row, day, balance; pipelined)',
    script:
      `\\set u random(1, ${users})\n\\startpipeline\nbegin;\nset local synchronous_commit = off;\n` +
      `insert into public.usage_logs (user_id, agent_type, model_used, provider, input_tokens, output_tokens, total_tokens, ` +
      `input_cost, output_cost, total_cost, input_price_per_million, output_price_per_million, cached_input_price_per_million, ` +
      `request_timestamp, response_timestamp) values (${userUuid}, 'chat_model_agent', 'gpt-4o-mini', 'openai', 1200, 300, 1500, ` +
      `0.00018, 0.00018, 0.00036, 0.15, 0.6, 0.075, now(), now());\n` +
      `insert into public.daily_usage as d (user_id, date, model_name, total_tokens, input_tokens, output_tokens, total_cost, requests_count) ` +
      `values (${userUuid}, current_date, 'gpt-4o-mini', 1500, 1200, 300, 0.00036, 1) on conflict (user_id, date, model_name) do update ` +
      `set total_tokens = d.total_tokens + excluded.total_tokens, requests_count = d.requests_count + 1, total_cost = d.total_cost + excluded.total_cost;\n` +
      `insert into private.credit_balances as b (user_id, day, day_spent, month_start, month_spent) ` +
      `values (${userUuid}, current_date, 0.00036, date_trunc('month', now())::date, 0.00036) on conflict (user_id) do update ` +
      `set day_spent = b.day_spent + excluded.day_spent, month_spent = b.month_spent + excluded.month_spent;\n` +
      `commit;\n\\endpipeline\n`,
  },
  {
    name: 'floor: one unlogged-row UPDATE per request (no function, no RLS)',
    script:
      `\\set u random(1, ${rateLimitUsers})\n\\startpipeline\nbegin;\n` +
      `update private.rate_limit_state set tat = tat where user_id = ${userUuid} and bucket = 'api_general:60';\n` +
      `commit;\n\\endpipeline\n`,
  },
  {
    name: 'check_credits (as a user)',
    script: asRequest(`select public.check_credits();`, { users }),
  },
];
