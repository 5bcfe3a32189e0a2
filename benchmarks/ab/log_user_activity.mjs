// A/B: private.log_user_activity as it stood before it checked every input
// once (an IP no longer sends the valid call through every check a second
// time; issue 15, item 3), against the current body, as the observability
// suite's server-side case calls it, without and with an IP address.
//   node benchmarks/ab.mjs benchmarks/ab/log_user_activity.mjs
import { benchUserUuidOf, oldDefinitionsSetup } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '277e725';
const file = 'supabase/migrations/20261122040000_observability.sql';
const rename = { 'private.log_user_activity(': 'bench_old.log_user_activity_writer(', 'public.log_user_activity(': 'bench_old.log_user_activity(' };

export const suites = ['observability'];
export const setup = oldDefinitionsSetup(before, file, ['private.log_user_activity', 'public.log_user_activity'], rename);

const users = 10_000;
const session = { role: 'service_role', claims: { role: 'service_role' } };
const call = (fn, extra = '') => ({
  session,
  script:
    `\\set u random(1, ${users})\n` +
    `select ${fn}('chat_message_send', 'chat', p_session_id => 'bench', p_request_method => 'POST', ` +
    `p_request_path => '/api/chat'${extra}, p_user_id => ${benchUserUuidOf('u')});\n`,
});
const ip = `, p_ip_address => '203.0.113.7'`;

export const cases = [
  { name: 'new log_user_activity (server-side, service role)', ...call('public.log_user_activity') },
  { name: 'old log_user_activity (server-side, service role)', ...call('bench_old.log_user_activity') },
  { name: 'new log_user_activity (server-side, with an IP)', ...call('public.log_user_activity', ip) },
  { name: 'old log_user_activity (server-side, with an IP)', ...call('bench_old.log_user_activity', ip) },
];
