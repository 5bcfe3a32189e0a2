// Observability history at any size: `months` monthly partitions (the current
// month and the months before it) of system_metrics, user_activity_logs and
// analytics_events, created the way production gets them, by
// private.ensure_partitions as the daily partition-maintenance job calls it
// (three months ahead of each day it ran), with rows spread evenly over that
// time up to now. A year of partitions outlives the
// registered retention of system_metrics (90 days) and user_activity_logs (30
// days): it is the worst case, a project that raised the retention, and what
// the retention purge then drops. `rows` metric samples, `logRows` rows each
// of user_activity_logs and analytics_events. Create the bench users first.
import { benchUserUuid } from '../harness.mjs';
import { dropIndexes, rebuildIndexes, runPhases, triggersOff, triggersOn } from './bulk.mjs';

const tables = ['public.system_metrics', 'public.user_activity_logs', 'public.analytics_events'];

/** SQL: the time span the rows fill, from the start of the month `months - 1` before this one up to now (one row). */
const span = (months) => `(select private.month_start(now()) - interval '${months - 1} months' as t0, now() as t1) as span`;
/** SQL: the time of row n of rows, spread evenly over the span. */
const spread = (rows) => `span.t0 + (span.t1 - span.t0) * ((n + 0.5) / ${rows})`;

/** The load as phases ({ name, sql }). Options: users, months, rows, logRows, superuser (see bulk.mjs). */
export function observabilityPhases({ users = 10_000, months = 1, rows = 500_000, logRows = rows, superuser = false } = {}) {
  const at = spread(rows);
  const logAt = spread(logRows);
  const user = benchUserUuid(`1 + n % ${users}`);
  const insert = (table, sql) => `${triggersOff(table, { superuser })}\n${sql};\n${triggersOn(table, { superuser })}`;
  return [
    {
      name: `partitions (${months} months)`,
      sql: tables.map((t) => `select private.ensure_partitions('${t}', 3, now() - make_interval(months => m))
                                from generate_series(${months - 1}, 0, -1) as m;`).join('\n'),
    },
    { name: 'drop indexes', sql: tables.map(dropIndexes).join('\n') },
    {
      // four services, eight series; the suite's record_metric writes web/request_duration
      name: `system_metrics (${rows})`,
      sql: insert('public.system_metrics', `
        insert into public.system_metrics (service_name, metric_type, metric_name, value, unit, user_id, recorded_at)
        select (array['web', 'api', 'worker', 'db'])[1 + n % 4], 'latency',
               (array['request_duration', 'query_duration'])[1 + (n / 4) % 2], (n % 1000) / 10.0, 'ms', ${user}, ${at}
          from ${span(months)}, generate_series(0, ${rows - 1}) as n`),
    },
    {
      name: `user_activity_logs (${logRows})`,
      sql: insert('public.user_activity_logs', `
        insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, session_id,
                                               request_method, request_path, created_at)
        select ${user}, gen_random_uuid(), 'chat_message_send', 'chat', 'bench', 'POST', '/api/chat', ${logAt}
          from ${span(months)}, generate_series(0, ${logRows - 1}) as n`),
    },
    {
      name: `analytics_events (${logRows})`,
      sql: insert('public.analytics_events', `
        insert into public.analytics_events (user_id, session_id, event_name, event_category, created_at)
        select ${user}, 'bench', (array['page_view', 'chat_open', 'message_sent'])[1 + n % 3], 'user_action', ${logAt}
          from ${span(months)}, generate_series(0, ${logRows - 1}) as n`),
    },
    { name: 'rebuild indexes', sql: tables.map(rebuildIndexes).join('\n') },
  ];
}

/** Loads observability history; returns { times } (see runPhases). */
export async function loadObservability(ctx, opts = {}) {
  return { times: await runPhases(ctx, 'observability', observabilityPhases(opts)) };
}
