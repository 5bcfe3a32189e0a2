// A/B: the correlation-id ownership check, old against new, on the
// observability suite's data (one month of partitions plus three ahead).
//   old: private.is_foreign_correlation probing the seven tables that carry
//        correlation ids (every partition of each), no writers table;
//   new: one primary-key read of private.correlation_writers, kept by an
//        AFTER INSERT trigger on each of those tables.
// Both sides run the same writers (record_metric, log_user_activity); the old
// side's copies, in scratch schema bench_old, call the old check, and write
// under correlation ids from f0000000-… up, which the bench database's writer
// triggers (recreated below, bench only) skip, so the old side writes no
// writers row; the new side's ids start with 0, made by the same expression,
// so both sides pay the same for their ids (and both sides can be mixed in one
// pgbench run).
// Cases: a new correlation id each call, and a repeat of one the caller
// already owns; and the service role for a random user with a new id, which
// skips the check (the service role writes under any id) and so isolates the
// trigger's cost on a write.
//   node benchmarks/ab.mjs benchmarks/ab/obs-correlation.mjs       (AB_ROUNDS=5 AB_SECONDS=5)
//   node benchmarks/ab/obs-correlation.mjs                         WAL and stored bytes per call of each case
// AB_MONTHS=12: also a year of (empty) monthly partitions behind the current
// one on the six partitioned tables, made as the daily maintenance job makes
// them, to see the check's cost follow the partitions kept (default 1).
// AB_BEFORE: a commit holding the old check (default the last one that had it);
// the writers are today's (HEAD), so only the check differs.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { actAsBenchUser, benchUserSession, serviceSession, benchUserUuid, benchUserUuidOf, makeContext, markdownTable, measuredPgbench, oldDefinition, oldDefinitionsSetup } from '../harness.mjs';

// the last commit with the probe of the seven tables
const before = process.env.AB_BEFORE ?? '14f6e97';
const logs = 'supabase/migrations/20261122040000_logs.sql';
const metrics = 'supabase/migrations/20261122040100_metrics.sql';
const users = 10_000;
const months = Number(process.env.AB_MONTHS ?? 1);
const partitioned = ['user_activity_logs', 'agent_activity_logs', 'api_request_logs', 'system_metrics', 'analytics_events', 'system_audit_logs'];

const rename = {
  'private.record_metric(': 'bench_old.record_metric_writer(',
  'public.record_metric(': 'bench_old.record_metric(',
  'private.log_user_activity(': 'bench_old.log_user_activity_writer(',
  'public.log_user_activity(': 'bench_old.log_user_activity(',
  'private.require_own_correlation(': 'bench_old.require_own_correlation(',
  'private.is_foreign_correlation(': 'bench_old.is_foreign_correlation(',
};

// Correlation ids: a new one, and the one each bench user (the integer SQL
// expression n) owns; the old side's from f0000000-… up.
const side = (schema) => (schema === 'bench_old' ? 'f' : '0');
const newCorrelation = (schema) => `('${side(schema)}' || substr(gen_random_uuid()::text, 2))::uuid`;
const ownCorrelation = (schema, n) => `('${side(schema)}0000000-c0c0-4000-8000-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
const skipOld = `new.correlation_id < 'f0000000-0000-0000-0000-000000000000'::uuid`;

export const suites = ['observability'];
export const setup = `
select count(private.ensure_partitions(('public.' || t)::regclass, 3, now() - make_interval(months => m)))
  from generate_series(${months - 1}, 1, -1) as m, unnest(array['${partitioned.join("', '")}']) as t;
${oldDefinitionsSetup(before, logs, ['private.is_foreign_correlation', 'private.require_own_correlation'], rename)}
${oldDefinition('HEAD', logs, 'private.log_user_activity', rename)};
${oldDefinition('HEAD', logs, 'public.log_user_activity', rename)};
${oldDefinition('HEAD', metrics, 'private.record_metric', rename)};
${oldDefinition('HEAD', metrics, 'public.record_metric', rename)};
grant execute on all functions in schema bench_old to authenticated, service_role;
drop trigger system_metrics_correlation_writer on public.system_metrics;
create trigger system_metrics_correlation_writer after insert on public.system_metrics
  for each row when (new.correlation_id is not null and ${skipOld}) execute function private.track_correlation_writer();
drop trigger user_activity_logs_correlation_writer on public.user_activity_logs;
create trigger user_activity_logs_correlation_writer after insert on public.user_activity_logs
  for each row when (new.correlation_id is not null and ${skipOld}) execute function private.track_correlation_writer();
-- every bench user owns one correlation id (an activity under it, by the service role for them)
set role service_role;
${['public', 'bench_old'].map((schema) => `select count(public.log_user_activity('chat_message_send', 'chat', ${ownCorrelation(schema, 'n')}, ` +
  `p_session_id => 'own', p_user_id => ${benchUserUuid('n')})) from generate_series(1, ${users}) as n;`).join('\n')}
reset role;
`;

// record_metric has no user parameter: one signed-in user (bench user 1), as the suite's case
const metricCall = (schema, corr) => `select ${schema}.record_metric('web', 'latency', 'request_duration', 12.5, 'ms', p_correlation_id => ${corr});\n`;
const metricCase = (schema, label, corrOf) => ({
  name: `record_metric, ${label} (server-side as user 1${schema === 'bench_old' ? ', old check' : ''})`,
  script: metricCall(schema, corrOf(schema)),
  session: benchUserSession(1, { aud: false }),
});
// log_user_activity as a random signed-in user (one user for all clients would
// queue on the foreign-key lock of their auth.users row): a request frame
const activityCall = (schema, corr) =>
  `select ${schema}.log_user_activity('chat_message_send', 'chat', ${corr}, p_session_id => 'bench', p_request_method => 'POST', p_request_path => '/api/chat');`;
const activityCase = (schema, label, corrOf) => ({
  name: `log_user_activity, ${label} (request as a random user${schema === 'bench_old' ? ', old check' : ''})`,
  script: `\\set u random(1, ${users})\n\\startpipeline\nbegin;\n${actAsBenchUser('u')}\n${activityCall(schema, corrOf(schema))}\ncommit;\n\\endpipeline\n`,
});
const serviceCase = (schema) => ({
  name: `log_user_activity, new id (server-side, service role for a random user: no check, the trigger's write${schema === 'bench_old' ? ' skipped' : ''})`,
  script: `\\set u random(1, ${users})\nselect ${schema}.log_user_activity('chat_message_send', 'chat', ${newCorrelation(schema)}, p_session_id => 'bench', ` +
    `p_request_method => 'POST', p_request_path => '/api/chat', p_user_id => ${benchUserUuidOf('u')});\n`,
  session: serviceSession,
});

const own = (n) => (schema) => ownCorrelation(schema, n);
export const cases = [
  metricCase('public', 'new correlation id', newCorrelation),
  metricCase('bench_old', 'new correlation id', newCorrelation),
  metricCase('public', 'own repeated correlation id', own(1)),
  metricCase('bench_old', 'own repeated correlation id', own(1)),
  activityCase('public', 'new correlation id', newCorrelation),
  activityCase('bench_old', 'new correlation id', newCorrelation),
  activityCase('public', 'own repeated correlation id', own(':u::int')),
  activityCase('bench_old', 'own repeated correlation id', own(':u::int')),
  serviceCase('public'),
  serviceCase('bench_old'),
];

// Run directly: each case once, with the WAL and the heap+index bytes it wrote per call.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { createThrowawayDatabase } = await import('../../local-stack/throwaway.mjs');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const seconds = Number(process.env.AB_SECONDS ?? 5);
  const db = await createThrowawayDatabase({ durable: true });
  try {
    db.push();
    const ctx = makeContext(db.url);
    for (const name of suites) await (await import(pathToFileURL(path.join(here, '..', 'suites', `${name}.mjs`)).href)).setup(ctx);
    ctx.sql(setup);
    ctx.sql('vacuum analyze');
    const rows = [['case', 'tps', 'WAL B/call', 'stored B/call']];
    for (const c of cases) {
      const r = measuredPgbench(db.url, { ...c, seconds });
      rows.push([c.name, r.tps.toFixed(0), r.walPerCall.toFixed(0), r.storedPerCall.toFixed(0)]);
    }
    process.stdout.write(`\n${markdownTable(rows)}\n`);
  } finally {
    db.destroy();
  }
}
