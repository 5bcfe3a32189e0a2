// What check_rate_limit costs above its function floor, part by part, in one
// run: the call; its fast-path statement alone (the rule table joined in, the
// GCRA arithmetic and condition) in the same two function layers with nothing
// else (no checks, no caller resolution, no answer); and the floor (the usage
// suite's bench_floor.check_rate_limit: the same row rewritten, two layers).
//   node benchmarks/ab.mjs benchmarks/ab/usage-check-rate-limit-parts.mjs
import { benchUserUuidOf, serviceSession } from '../harness.mjs';

export const suites = ['usage'];
export const setup = `
create schema if not exists bench_var;
grant usage on schema bench_var to service_role;
create or replace function bench_var.rate_limit_statement_core(p_endpoint text, p_cost integer, p_user_id uuid) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_now timestamptz := pg_catalog.now();
begin
  update private.rate_limit_state as s
     set tat = greatest(s.tat, v_now)
               + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                   + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
         tat_remainder = (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
                          + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests
    from private.plan_single_window_rules as r
   where r.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                  where up.user_id = p_user_id and up.active), 'basic')
     and r.endpoint = p_endpoint
     and s.user_id = p_user_id and s.bucket = r.bucket
     and (greatest(s.tat, v_now)
          + ((case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
              + 1000000::bigint * r.window_seconds * p_cost) / r.max_requests) * interval '1 microsecond',
          (case when s.tat >= v_now then least(s.tat_remainder, r.max_requests - 1) else 0 end
           + 1000000::bigint * r.window_seconds * p_cost) % r.max_requests)
         <= (v_now + pg_catalog.make_interval(secs => r.window_seconds), 0);
end $$;
create or replace function bench_var.rate_limit_statement(p_endpoint text, p_cost integer, p_user_id uuid) returns void
language plpgsql volatile security invoker set search_path = '' as $$
begin
  perform bench_var.rate_limit_statement_core(p_endpoint, p_cost, p_user_id);
end $$;
grant execute on all functions in schema bench_var to service_role;
`;

const users = 10_000;
const pick = `\\set u random(1, ${users})\n`;
const user = benchUserUuidOf('u');
const call = { name: 'check_rate_limit', script: `${pick}select public.check_rate_limit('api_general', 1, ${user});\n`, session: serviceSession };
const statement = {
  name: 'its fast-path statement alone, in the same two layers',
  script: `${pick}select bench_var.rate_limit_statement('api_general', 1, ${user});\n`,
  session: serviceSession,
};
const floor = { name: 'function floor (the row rewritten, two layers)', script: `${pick}select bench_floor.check_rate_limit(${user});\n`, session: serviceSession };

export const cases = [call, floor, statement, floor, call, statement];
