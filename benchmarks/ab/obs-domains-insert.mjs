// A/B: what the domains save per written row, without the RPC around it: 50
// single-row INSERT statements per transaction (each statement builds the
// table's CHECKs again; the domains' checks come from the type cache) into
// the current table (domains) and into its copy as it stood at AB_BEFORE
// (table CHECKs; see obs-domains.mjs), for user_activity_logs (one CHECK),
// agent_activity_logs (13 column CHECKs and one two-column CHECK) and
// notifications (8 CHECKs). Asynchronous commit, so the figures are CPU.
//   node benchmarks/ab.mjs benchmarks/ab/obs-domains-insert.mjs
import { benchUserUuidOf } from '../harness.mjs';
import { oldTable } from './obs-domains.mjs';

const logs = 'supabase/migrations/20261122040000_logs.sql';
const notifications = 'supabase/migrations/20261122070100_notifications.sql';
const rows = 50;

// 50 inserts of the row an RPC writes, into schema `schema`'s table
const loop = (name, schema, insert) => `
create or replace function bench_old.${name}_${schema}(p_user_id uuid) returns void
language plpgsql volatile set search_path = '' as $$
begin
  for i in 1..${rows} loop
    ${insert(schema)};
  end loop;
end $$;`;

const activity = (s) => `insert into ${s}.user_activity_logs (user_id, correlation_id, activity_type, activity_category, session_id,
      request_method, request_path) values (p_user_id, gen_random_uuid(), 'chat_message_send', 'chat', 'bench', 'POST', '/api/chat')`;
const agent = (s) => `insert into ${s}.agent_activity_logs (user_id, correlation_id, agent_type, operation_type, operation_category,
      duration_ms, start_time, end_time, model_id, provider, input_tokens, output_tokens, reasoning_tokens, total_tokens,
      input_cost, output_cost, total_cost, retry_count)
    values (p_user_id, gen_random_uuid(), 'chat', 'completion', 'llm', 1200, now() - interval '1.2 seconds', now(), 'gpt-x', 'openai',
      500, 200, 0, 700, 0.0005, 0.0008, 0.0013, 0)`;
const notification = (s) => `insert into ${s}.notifications (user_id, channel, title, body, data, priority, max_attempts,
      next_attempt_at, status) values (p_user_id, 'push', 'Ready', 'Your video is ready.', '{"video":"v1"}', 5, 5, now(), 'pending')`;

export const suites = [];
export const setup = `
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'authenticated', 'authenticated', 'bench' || n || '@bench.local', '', '{"provider":"email"}', '{}', now(), now()
  from generate_series(1, 1000) as n on conflict (id) do nothing;
create schema if not exists bench_old;
${oldTable(logs, 'user_activity_logs')}
${oldTable(logs, 'agent_activity_logs')}
${oldTable(notifications, 'notifications')}
${['public', 'bench_old'].map((s) => loop('activity', s, activity) + loop('agent', s, agent) + loop('notification', s, notification)).join('\n')}
`;

const call = (name, schema) => ({
  script: `\\set u random(1, 1000)\nselect bench_old.${name}_${schema}(${benchUserUuidOf('u')});\n`,
  session: { role: 'postgres', settings: { synchronous_commit: 'off' } },
});

export const cases = [
  { name: `new user_activity_logs (domains), ${rows} inserts`, ...call('activity', 'public') },
  { name: `old user_activity_logs (table CHECKs), ${rows} inserts`, ...call('activity', 'bench_old') },
  { name: `new agent_activity_logs (domains), ${rows} inserts`, ...call('agent', 'public') },
  { name: `old agent_activity_logs (table CHECKs), ${rows} inserts`, ...call('agent', 'bench_old') },
  { name: `new notifications (domains), ${rows} inserts`, ...call('notification', 'public') },
  { name: `old notifications (table CHECKs), ${rows} inserts`, ...call('notification', 'bench_old') },
];
