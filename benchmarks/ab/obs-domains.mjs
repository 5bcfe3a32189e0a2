// A/B: the write-hot telemetry tables with their one-column rules as domains
// (cached per session) against the same tables with table CHECKs (rebuilt and
// planned at the start of every writing statement), as they stood at
// AB_BEFORE. The old side is a copy of each table from AB_BEFORE (same
// columns, CHECKs, indexes, a partition for this month and a default one, the
// suite's rows copied in) in schema bench_old, written by the RPC as it stood
// at AB_BEFORE with its table renamed; the new side is the current RPC and
// table. Each pair is called as the observability suite's server-side cases
// call it; create_notification (service role, a pending push) also with
// asynchronous commit, where the WAL flush no longer hides the CPU.
//   node benchmarks/ab.mjs benchmarks/ab/obs-domains.mjs
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../../local-stack/lib.mjs';
import { benchUserId, benchUserSession, benchUserUuidOf, oldDefinition, serviceSession } from '../harness.mjs';

const before = process.env.AB_BEFORE ?? '53ee963';
const logs = 'supabase/migrations/20261122040000_logs.sql';
const metrics = 'supabase/migrations/20261122040100_metrics.sql';
const notifications = 'supabase/migrations/20261122070100_notifications.sql';

// The table's `create table` and `create index` statements at `before`, moved
// to bench_old, with a partition for this month and a default one when the
// table is partitioned, and the suite's rows copied in.
export function oldTable(file, table) {
  const text = execFileSync('git', ['show', `${before}:${file}`], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  const create = text.match(new RegExp(`create table if not exists public\\.${table} \\([\\s\\S]*?\\n\\)( partition by range \\((\\w+)\\))?;`));
  if (!create) throw new Error(`public.${table} not found in ${before}:${file}`);
  const indexes = text.match(new RegExp(`create index if not exists \\w+ on public\\.${table} [^;]*;`, 'g')) ?? [];
  const moved = (sql) => sql.split(`public.${table}`).join(`bench_old.${table}`);
  const partitions = create[1]
    ? `create table bench_old.${table}_current partition of bench_old.${table}
         for values from (date_trunc('month', now())) to (date_trunc('month', now()) + interval '1 month');
       create table bench_old.${table}_default partition of bench_old.${table} default;`
    : '';
  return `${moved(create[0])}
${indexes.map((i) => moved(i).replace(/create index if not exists (\w+)/, 'create index if not exists old_$1')).join('\n')}
${partitions}
insert into bench_old.${table} select * from public.${table};
grant select, insert, update, delete on bench_old.${table} to service_role;
`;
}

const fn = (file, name, rename) => `${oldDefinition(before, file, name, rename)};`;

export const suites = ['observability'];
export const setup = `
create schema if not exists bench_old;
grant usage on schema bench_old to authenticated, service_role;
${oldTable(logs, 'user_activity_logs')}
${oldTable(metrics, 'system_metrics')}
${oldTable(metrics, 'analytics_events')}
${oldTable(notifications, 'notifications')}
${fn(logs, 'private.log_user_activity', { 'private.log_user_activity(': 'bench_old.log_user_activity_writer(', 'public.user_activity_logs': 'bench_old.user_activity_logs' })}
${fn(logs, 'public.log_user_activity', { 'private.log_user_activity(': 'bench_old.log_user_activity_writer(', 'public.log_user_activity(': 'bench_old.log_user_activity(' })}
${fn(metrics, 'private.record_metric', { 'private.record_metric(': 'bench_old.record_metric_writer(', 'public.system_metrics': 'bench_old.system_metrics' })}
${fn(metrics, 'public.record_metric', { 'private.record_metric(': 'bench_old.record_metric_writer(', 'public.record_metric(': 'bench_old.record_metric(' })}
${fn(metrics, 'private.track_event', { 'private.track_event(': 'bench_old.track_event_writer(', 'public.analytics_events': 'bench_old.analytics_events' })}
${fn(metrics, 'public.track_event', { 'private.track_event(': 'bench_old.track_event_writer(', 'public.track_event(': 'bench_old.track_event(' })}
${fn(notifications, 'public.create_notification', { 'public.create_notification(': 'bench_old.create_notification(', 'public.notifications': 'bench_old.notifications' })}
grant execute on all functions in schema bench_old to authenticated, service_role;
`;

const users = 10_000;
const u = benchUserUuidOf('u');
const oneUser = benchUserSession(1, { aud: false });
const asyncService = { ...serviceSession, settings: { synchronous_commit: 'off' } };
const recordMetric = (schema) => `select ${schema}.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');\n`;
const logUserActivity = (schema) =>
  `\\set u random(1, ${users})\nselect ${schema}.log_user_activity('chat_message_send', 'chat', p_session_id => 'bench', ` +
  `p_request_method => 'POST', p_request_path => '/api/chat', p_user_id => ${u});\n`;
const trackEvent = (schema) => `\\set u random(1, ${users})\nselect ${schema}.track_event('page_view', p_session_id => 'bench', p_user_id => ${u});\n`;
const createNotification = (schema) =>
  `\\set u random(1, ${users})\nselect (${schema}.create_notification(${u}, 'push', 'Your video is ready.', 'Ready', '{"video":"v1"}')).id;\n`;

export const cases = [
  { name: 'new record_metric (domains)', script: recordMetric('public'), session: oneUser },
  { name: 'old record_metric (table CHECKs)', script: recordMetric('bench_old'), session: oneUser },
  { name: 'new log_user_activity (domains)', script: logUserActivity('public'), session: serviceSession },
  { name: 'old log_user_activity (table CHECKs)', script: logUserActivity('bench_old'), session: serviceSession },
  { name: 'new track_event (domains)', script: trackEvent('public'), session: serviceSession },
  { name: 'old track_event (table CHECKs)', script: trackEvent('bench_old'), session: serviceSession },
  { name: 'new create_notification (domains)', script: createNotification('public'), session: serviceSession },
  { name: 'old create_notification (table CHECKs)', script: createNotification('bench_old'), session: serviceSession },
  { name: 'new create_notification (domains, async commit)', script: createNotification('public'), session: asyncService },
  { name: 'old create_notification (table CHECKs, async commit)', script: createNotification('bench_old'), session: asyncService },
];
