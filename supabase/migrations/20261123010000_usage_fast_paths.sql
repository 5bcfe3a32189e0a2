-- Usage, fast paths (issue 4's throughput aim). Forward-only: redefines
-- private.check_rate_limit from 20261122030000_usage.sql with the same
-- signature, answers, errors and locking.
--
-- What changed: the single-window fast path no longer calls
-- private.rate_limit_rules and indexes a composite array for every value it
-- uses. For a plan endpoint it reads the rule as scalars in one SELECT, then
-- takes the same one-statement GCRA write. The general path (several windows,
-- unlimited, per-agent rules from admin_config, denials) is unchanged and
-- still gets its rules from private.rate_limit_rules.

create or replace function private.check_rate_limit(
  p_endpoint text, p_cost integer, p_user_id uuid, p_consume boolean
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- No initializers: every plpgsql expression is re-prepared once per
  -- transaction, and an API request is one transaction, so on this path the
  -- number of expressions evaluated is what costs (docs/usage.md).
  v_uid uuid;
  v_now timestamptz;
  v_rules private.rate_limit_rule[];
  v_rule_count bigint;
  v_bucket text;
  v_max integer;
  v_window_seconds integer;
  v_result jsonb;
  v_rule private.rate_limit_rule;
  v_allowed boolean;
  v_reason text;
  v_window interval;
  v_step interval;
  v_tat timestamptz;
  v_consumed text[];
  v_consumed_steps interval[];
  v_remaining bigint;
  v_retry numeric;
  v_windows jsonb;
  v_bind jsonb;
  v_bind_remaining bigint;
  v_bind_retry numeric;
  v_entry jsonb;
begin
  if p_user_id is null then
    v_uid := auth.uid();
  elsif p_user_id is distinct from auth.uid() and coalesce(auth.jwt() ->> 'role', '') <> 'service_role' then
    raise exception 'only the service role may check another user''s rate limit' using errcode = '42501';
  else
    v_uid := p_user_id;
  end if;
  if v_uid is null or p_endpoint is null or p_endpoint !~ '^[a-z][a-z0-9_:.-]{0,63}$'
     or p_cost is null or p_cost < 1 or p_cost > 1000000 then
    if v_uid is null then
      raise exception 'you must be signed in to be rate limited' using errcode = '42501';
    elsif p_endpoint is null or p_endpoint !~ '^[a-z][a-z0-9_:.-]{0,63}$' then
      raise exception 'invalid endpoint: lowercase letters, digits, _ : . - (at most 64)' using errcode = '22023';
    end if;
    raise exception 'invalid cost: must be between 1 and 1000000' using errcode = '22023';
  end if;

  v_now := coalesce(nullif(pg_catalog.current_setting('app.usage_now', true), '')::timestamptz, pg_catalog.now());

  -- Fast path: a plan endpoint with a single limited window (every rule the
  -- seeds define) and a call that fits - one read of the rule, one write.
  -- Anything else (several windows, unlimited, an agent's rules, a denial)
  -- takes the general path below, which gives the same answer. The rule is
  -- read here as scalars rather than through private.rate_limit_rules: for an
  -- endpoint not ending in _agent that function (in both its usage and its
  -- admin version) returns exactly the plan_rate_limits rows read here, and
  -- skipping its call and its composite array saves a third of the call.
  if p_endpoint not like '%\_agent' then
    select count(*), min(l.endpoint || ':' || l.window_seconds), min(l.max_requests), min(l.window_seconds)
      into v_rule_count, v_bucket, v_max, v_window_seconds
      from public.plan_rate_limits as l
     where l.endpoint = p_endpoint
       and l.plan_name = coalesce((select up.plan_name from public.user_plans as up
                                    where up.user_id = v_uid and up.active), 'basic');
  end if;
  if v_rule_count = 1 and v_max >= p_cost then
    if p_consume then
      insert into private.rate_limit_state as s (user_id, bucket, tat)
      values (v_uid, v_bucket,
              v_now + pg_catalog.make_interval(secs => v_window_seconds) / v_max * p_cost)
      on conflict (user_id, bucket) do update
         set tat = greatest(s.tat, v_now) + (excluded.tat - v_now)
       where greatest(s.tat, v_now) + (excluded.tat - v_now)
             <= v_now + pg_catalog.make_interval(secs => v_window_seconds)
      returning jsonb_build_object('allowed', true, 'endpoint', p_endpoint, 'cost', p_cost, 'reason', null,
                'policy', v_bucket, 'limit', v_max, 'window_seconds', v_window_seconds,
                'remaining', pg_catalog.floor((v_window_seconds - extract(epoch from (s.tat - v_now))) * v_max / v_window_seconds)::bigint,
                'reset_at', s.tat, 'reset_after_seconds', pg_catalog.ceil(extract(epoch from (s.tat - v_now))), 'retry_after_seconds', null,
                'windows', jsonb_build_array(jsonb_build_object('bucket', v_bucket, 'limit', v_max,
                  'window_seconds', v_window_seconds, 'remaining', pg_catalog.floor((v_window_seconds - extract(epoch from (s.tat - v_now))) * v_max / v_window_seconds)::bigint,
                  'reset_at', s.tat, 'reset_after_seconds', pg_catalog.ceil(extract(epoch from (s.tat - v_now))), 'retry_after_seconds', null)))
           into v_result;
    else
      select jsonb_build_object('allowed', true, 'endpoint', p_endpoint, 'cost', p_cost, 'reason', null,
               'policy', v_bucket, 'limit', v_max, 'window_seconds', v_window_seconds,
               'remaining', pg_catalog.floor((v_window_seconds - extract(epoch from (t.tat - v_now))) * v_max / v_window_seconds)::bigint,
               'reset_at', t.tat, 'reset_after_seconds', pg_catalog.ceil(extract(epoch from (t.tat - v_now))), 'retry_after_seconds', null,
               'windows', jsonb_build_array(jsonb_build_object('bucket', v_bucket, 'limit', v_max,
                 'window_seconds', v_window_seconds, 'remaining', pg_catalog.floor((v_window_seconds - extract(epoch from (t.tat - v_now))) * v_max / v_window_seconds)::bigint,
                 'reset_at', t.tat, 'reset_after_seconds', pg_catalog.ceil(extract(epoch from (t.tat - v_now))), 'retry_after_seconds', null)))
        into v_result
        from (select greatest(coalesce((select s.tat from private.rate_limit_state as s
                                         where s.user_id = v_uid and s.bucket = v_bucket), v_now), v_now) as tat) as t
       where t.tat
             + pg_catalog.make_interval(secs => v_window_seconds) / v_max * p_cost
             <= v_now + pg_catalog.make_interval(secs => v_window_seconds);
    end if;
    if v_result is not null then
      return v_result;
    end if;
  end if;

  v_rules := private.rate_limit_rules(v_uid, p_endpoint);

  -- General path: every window in order, all or nothing.
  if cardinality(v_rules) = 0 then
    raise exception 'unknown endpoint "%"', p_endpoint
      using errcode = '22023', hint = 'Rate-limited endpoints are listed in public.plan_rate_limits.';
  end if;
  v_allowed := true;
  v_consumed := '{}'::text[];
  v_consumed_steps := '{}'::interval[];
  v_windows := '[]'::jsonb;

  foreach v_rule in array v_rules loop
    continue when v_rule.max_requests is null;
    v_window := pg_catalog.make_interval(secs => v_rule.window_seconds);
    v_step := v_window / v_rule.max_requests;
    v_retry := null;
    v_tat := null;

    if p_consume and v_allowed and p_cost <= v_rule.max_requests then
      -- The check and the update are one statement: a concurrent caller's
      -- update makes this one wait and re-check the condition on the new
      -- row (READ COMMITTED re-evaluation), so admissions are exact.
      update private.rate_limit_state as s
         set tat = greatest(s.tat, v_now) + v_step * p_cost
       where s.user_id = v_uid and s.bucket = v_rule.bucket
         and greatest(s.tat, v_now) + v_step * p_cost <= v_now + v_window
      returning s.tat into v_tat;
      if v_tat is null then
        -- no row yet (first call in this bucket), or it does not fit
        insert into private.rate_limit_state (user_id, bucket, tat)
        values (v_uid, v_rule.bucket, v_now + v_step * p_cost)
        on conflict (user_id, bucket) do nothing
        returning tat into v_tat;
      end if;
      if v_tat is null then
        -- the row exists: denied, unless a concurrent first call created it just now
        update private.rate_limit_state as s
           set tat = greatest(s.tat, v_now) + v_step * p_cost
         where s.user_id = v_uid and s.bucket = v_rule.bucket
           and greatest(s.tat, v_now) + v_step * p_cost <= v_now + v_window
        returning s.tat into v_tat;
      end if;
      if v_tat is not null then
        v_consumed := v_consumed || v_rule.bucket;
        v_consumed_steps := v_consumed_steps || (v_step * p_cost);
      end if;
    end if;

    if v_tat is null then
      -- not consumed: a peek, a rule after a denial, or a denial (consuming
      -- and still allowed here means this window refused)
      select greatest(s.tat, v_now) into v_tat
        from private.rate_limit_state as s
       where s.user_id = v_uid and s.bucket = v_rule.bucket;
      v_tat := coalesce(v_tat, v_now);
      if v_tat + v_step * p_cost > v_now + v_window or (p_consume and v_allowed) then
        v_allowed := false;
        if p_cost > v_rule.max_requests then
          v_reason := coalesce(v_reason, 'cost_exceeds_limit');
        else
          v_retry := greatest(extract(epoch from (v_tat + v_step * p_cost - v_window - v_now)), 0);
          v_reason := coalesce(v_reason, 'rate_limited');
        end if;
      end if;
    end if;

    v_remaining := pg_catalog.floor(extract(epoch from (v_window - (v_tat - v_now))) / extract(epoch from v_step))::bigint;
    v_entry := jsonb_build_object(
      'bucket', v_rule.bucket, 'limit', v_rule.max_requests, 'window_seconds', v_rule.window_seconds,
      'remaining', greatest(v_remaining, 0),
      'reset_at', v_tat,
      'reset_after_seconds', pg_catalog.ceil(extract(epoch from (v_tat - v_now))),
      'retry_after_seconds', pg_catalog.ceil(v_retry));
    v_windows := v_windows || v_entry;
    -- The window the headers describe: the one that denied with the longest wait, else the tightest.
    if v_bind is null
       or (v_retry is not null and (v_bind_retry is null or v_retry > v_bind_retry))
       or (v_bind_retry is null and v_retry is null and v_remaining < v_bind_remaining) then
      v_bind := v_entry;
      v_bind_remaining := v_remaining;
      v_bind_retry := v_retry;
    end if;
  end loop;

  if p_consume and not v_allowed then
    -- a denial's log row is telemetry: no fsync wait for it
    perform pg_catalog.set_config('synchronous_commit', 'off', true);
    -- All or nothing: give back what earlier windows took. Their rows are
    -- still locked by this transaction, so the subtraction is exact.
    for i in 1 .. coalesce(array_length(v_consumed, 1), 0) loop
      update private.rate_limit_state
         set tat = tat - v_consumed_steps[i]
       where user_id = v_uid and bucket = v_consumed[i];
    end loop;
    insert into public.rate_limit_violations as v
      (user_id, endpoint, bucket, limit_value, window_start, first_denied_at, last_denied_at)
    values (v_uid, p_endpoint, v_bind ->> 'bucket', (v_bind ->> 'limit')::integer,
            pg_catalog.date_trunc('minute', v_now), v_now, v_now)
    on conflict (user_id, bucket, window_start) do update
       set denied_count = v.denied_count + 1, last_denied_at = greatest(v.last_denied_at, excluded.last_denied_at);
  end if;

  -- the binding window's figures at the top level (bucket renamed policy)
  return (coalesce(v_bind, '{"bucket": null, "limit": null, "window_seconds": null, "remaining": null, "reset_at": null,
                             "reset_after_seconds": null, "retry_after_seconds": null}'::jsonb) - 'bucket')
         || jsonb_build_object('allowed', v_allowed, 'endpoint', p_endpoint, 'cost', p_cost, 'reason', v_reason,
                               'policy', v_bind -> 'bucket', 'windows', v_windows);
end;
$$;

-- Housekeeping on a schedule (cron.schedule upserts by job name, so
-- re-running is harmless; private.scheduled_job_status shows each last run).
-- State rows whose tat has passed equal no row: purging them every 15
-- minutes keeps rate_limit_state near the number of users active in the
-- last window. Violations are kept 30 days.
select cron.schedule('purge-rate-limit-state', '*/15 * * * *', 'select private.purge_rate_limit_state()');
select cron.schedule('purge-rate-limit-violations', '50 3 * * *', 'select private.purge_rate_limit_violations()');
