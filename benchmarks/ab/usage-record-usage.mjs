// A/B: record_usage writing the reservation and the conversation only when
// given, checking valid input with one expression, reading the model's prices
// with its cost in one statement, and giving usage rows time-ordered ids
// (usage_logs.id default private.uuid_v7()), against the body before (random
// ids: the old side inserts gen_random_uuid() itself). Two more variants of
// the new body separate the id's cost from the body's: with random ids, and
// with a plpgsql time-ordered id (bench_var.uuid_v7, the same bits as the
// foundation's private.uuid_v7, which is a SQL function planned per call).
//   node benchmarks/ab.mjs benchmarks/ab/usage-record-usage.mjs
import { benchUserUuidOf, oldDefinition } from '../harness.mjs';
import { serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122030000_usage.sql';
const withId = (ref, name, idExpr, values) => oldDefinition(ref, file, 'public.record_usage', {
  'public.record_usage(': `bench_var.${name}(`,
  '      user_id, conversation_id, agent_type, model_used, provider,': '      id, user_id, conversation_id, agent_type, model_used, provider,',
  [`      ${values}`]: `      ${idExpr}, ${values}`,
});
const oldValues = 'p_user_id, p_conversation_id, p_agent_type, v_model.model_id, v_model.provider,';
const newValues = 'p_user_id, p_conversation_id, p_agent_type, v_model_id, v_provider,';

export const suites = ['usage'];
export const setup = `
create schema if not exists bench_var;
grant usage on schema bench_var to service_role;
create or replace function bench_var.uuid_v7() returns uuid
language plpgsql volatile security invoker set search_path = '' as $$
begin
  return pg_catalog.encode(
    pg_catalog.set_bit(pg_catalog.set_bit(
      pg_catalog.overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()),
        pg_catalog.substr(pg_catalog.int8send(pg_catalog.floor(extract(epoch from pg_catalog.clock_timestamp()) * 1000)::bigint), 3),
        1, 6),
      52, 1), 53, 1),
    'hex')::uuid;
end $$;
${withId(before, 'record_usage_old', 'pg_catalog.gen_random_uuid()', oldValues)};
${withId('HEAD', 'record_usage_random_ids', 'pg_catalog.gen_random_uuid()', newValues)};
${withId('HEAD', 'record_usage_plpgsql_v7', 'bench_var.uuid_v7()', newValues)};
grant execute on all functions in schema bench_var to service_role;
`;

const users = 10_000;
const call = (name, fn) => ({
  name,
  script: `\\set u random(1, ${users})\nselect ${fn}(${benchUserUuidOf('u')}, 'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850);\n`,
  session: serviceSession,
});
const old = call('old record_usage (random ids)', 'bench_var.record_usage_old');

export const cases = [
  call('new record_usage (private.uuid_v7 ids)', 'public.record_usage'), old,
  call('new body, random ids', 'bench_var.record_usage_random_ids'), old,
  call('new body, plpgsql time-ordered ids', 'bench_var.record_usage_plpgsql_v7'), old,
];
