// A/B: is_feature_enabled against its function floor (the same two layers
// around the flag and exposure reads), and a variant of its definer core that
// resolves the flag without a sort (the environment's row, else the 'all'
// row, as UNION ALL ... LIMIT 1) behind one guard for the three length
// checks, as the admin suite's server-side case calls it (a signed-in user).
//   node benchmarks/ab.mjs benchmarks/ab/platform-is_feature_enabled.mjs
import { benchUserSession, oldDefinition } from '../harness.mjs';

const ref = process.env.AB_BEFORE ?? 'HEAD';
const file = 'supabase/migrations/20261122080000_admin.sql';
const rename = { 'private.evaluate_feature_flag(': 'bench_old.evaluate_feature_flag(', 'public.is_feature_enabled(': 'bench_old.is_feature_enabled(' };
const renameNew = { 'private.evaluate_feature_flag(': 'bench_new.evaluate_feature_flag(', 'public.is_feature_enabled(': 'bench_new.is_feature_enabled(' };

const guardOld = /  if pg_catalog\.length\(p_flag_key\) > 100 then[\s\S]*?16384 bytes of JSON' using errcode = '22023';\n  end if;\n/;
const guardNew = `  if pg_catalog.length(p_flag_key) > 100 or pg_catalog.length(p_environment) > 32 or pg_catalog.pg_column_size(p_context) > 16384 then
    if pg_catalog.length(p_flag_key) > 100 then
      raise exception 'invalid p_flag_key: at most 100 characters' using errcode = '22023';
    end if;
    if pg_catalog.length(p_environment) > 32 then
      raise exception 'invalid p_environment: at most 32 characters' using errcode = '22023';
    end if;
    raise exception 'invalid p_context: at most 16384 bytes of JSON' using errcode = '22023';
  end if;
`;
const lookupOld = /  select f\.id, f\.environment[\s\S]*?   limit 1;\n/;
const cols = `f.id, f.environment, f.version, f.enabled, f.strategy, f.rollout_percentage, f.conditions,
           v_uid = any (f.user_ids), e.user_id is not null,
           case when e.flag_id = f.id and f.strategy <> 'condition' then e.variant = 'on' end`;
const join = `left join public.feature_flag_evaluations as e
        on e.flag_key = f.flag_key and e.environment = f.environment
       and e.day = (pg_catalog.now() at time zone 'UTC')::date and e.user_id = v_uid and e.flag_version = f.version`;
const lookupNew = `  select x.* into v_flag_id, v_environment, v_version, v_enabled, v_strategy, v_percentage, v_conditions,
         v_listed, v_seen, v_recorded
    from (
    select ${cols}
      from public.feature_flags as f
      ${join}
     where f.flag_key = p_flag_key and f.environment = p_environment
    union all
    select ${cols}
      from public.feature_flags as f
      ${join}
     where f.flag_key = p_flag_key and f.environment = 'all'
    ) as x
   limit 1;
`;

const variant = () => {
  let core = oldDefinition(ref, file, 'private.evaluate_feature_flag', renameNew);
  if (!guardOld.test(core) || !lookupOld.test(core)) throw new Error('variant: the core changed shape');
  core = core.replace(guardOld, guardNew).replace(lookupOld, lookupNew);
  return `${core};\n${oldDefinition(ref, file, 'public.is_feature_enabled', renameNew)};\n`;
};

export const suites = ['admin'];
export const setup = `
create schema if not exists bench_new;
grant usage on schema bench_new to authenticated, service_role;
${variant()}
grant execute on all functions in schema bench_new to authenticated, service_role;
`;

const user7 = benchUserSession(7, { aud: false });
const call = (fn) => ({ session: user7, script: `select ${fn}('bench.percentage', null, 'production');\n` });

export const cases = [
  { name: 'is_feature_enabled (server-side call as a user)', ...call('public.is_feature_enabled') },
  { name: 'floor: the two layers around the flag and exposure reads', session: user7, script: `select bench_floor.flag_and_exposure('bench.percentage');\n` },
  { name: 'variant: no sort, one guard', ...call('bench_new.is_feature_enabled') },
  { name: 'is_feature_enabled (again)', ...call('public.is_feature_enabled') },
];
