// A/B: record_usage writing the reservation and the conversation only when
// given, with time-ordered usage ids (usage_logs.id default private.uuid_v7())
// against the body before (both as CTEs of the one write statement, random
// ids: the old side inserts gen_random_uuid() itself).
//   node benchmarks/ab.mjs benchmarks/ab/usage-record-usage.mjs
import { benchUserUuidOf, oldDefinitionsSetup, serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const file = 'supabase/migrations/20261122030000_usage.sql';
const rename = {
  'public.record_usage(': 'bench_old.record_usage(',
  '      user_id, conversation_id, agent_type, model_used, provider,': '      id, user_id, conversation_id, agent_type, model_used, provider,',
  '      p_user_id, p_conversation_id, p_agent_type, v_model.model_id, v_model.provider,':
    '      pg_catalog.gen_random_uuid(), p_user_id, p_conversation_id, p_agent_type, v_model.model_id, v_model.provider,',
};

export const suites = ['usage'];
export const setup = oldDefinitionsSetup(before, file, ['public.record_usage'], rename);

const users = 10_000;
const call = (fn) => ({
  script: `\\set u random(1, ${users})\nselect ${fn}(${benchUserUuidOf('u')}, 'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850);\n`,
  session: serviceSession,
});

export const cases = [
  { name: 'new record_usage (server-side)', ...call('public.record_usage') },
  { name: 'old record_usage (server-side)', ...call('bench_old.record_usage') },
];
