#!/usr/bin/env node
// npm run bench:scale — the cost as the data grows (not run in CI).
//
// For each scale factor in BENCH_SCALES (default 1,10): a throwaway durable
// cluster with the chat, usage and observability data at that factor
// (benchmarks/data/*.mjs); then the same pgbench cases, `select 1` among them,
// at every scale, interleaved: SCALE_ROUNDS rounds (default 2), each case run
// at each scale back to back, the scales' order reversed every other round;
// medians. All the clusters are up at once (disk: about 15 GB at 10×).
//
// Scale 1 is the chat suite's data: 10,000 users, 100,000 conversations,
// 1,000,000 messages; plus 1,000,000 usage_logs rows (30 days) and one month
// of log/metric partitions: 500,000 system_metrics rows, 200,000 each of
// user_activity_logs and analytics_events. Factor f multiplies every count
// (usage history spans 30·f days; observability spans 12 months from f = 10
// on, 1 month at f = 1). SCALE_PAGES sets the deep pages' depth (1,000).
//
// Goals: a write's ratio to `select 1` at the largest scale at least 0.9× its
// ratio at the smallest; a deep page (1,000 pages down, keyset cursor) within
// 1.2× of the first page's p50 at each scale. Also prints each load phase's
// time, table sizes, EXPLAIN (costs off) of the partitioned reads at every
// scale, and the time of the retention purges and the daily_metrics refresh.
// BENCH_SECONDS / BENCH_CLIENTS / BENCH_THREADS as npm run bench.
import { spawn } from 'node:child_process';
import { dbUrl, log, pgBin, pgEnv, psql } from '../local-stack/lib.mjs';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import {
  actAsBenchUserNumbered, actAsServiceRole, asBenchUserRequest, benchUserId, benchUserSession, benchUserUuidOf, defaults,
  makeContext, markdownTable, pgbench, selectOne, serviceSession,
} from './harness.mjs';
import { chatLayout, convId, loadChat, sqlConvId } from './data/chat.mjs';
import { loadObservability } from './data/observability.mjs';
import { loadUsage } from './data/usage.mjs';

const scales = (process.env.BENCH_SCALES ?? '1,10').split(',').map(Number).filter((f) => f > 0);
const rounds = Number(process.env.SCALE_ROUNDS ?? 2);
if (scales.length < 1) throw new Error('BENCH_SCALES: one or more positive factors, e.g. 1,10');
const users = 10_000;
const pages = Number(process.env.SCALE_PAGES ?? 1_000);

/** The data at factor f. */
function sizes(f) {
  return {
    chat: { users, pages, conversations: Math.round(100_000 * f), messages: Math.round(1_000_000 * f) },
    usage: { users, rows: Math.round(1_000_000 * f), days: Math.max(1, Math.round(30 * f)) },
    observability: {
      users, months: Math.min(12, Math.max(1, Math.round(1.2 * f - 0.2))), rows: Math.round(500_000 * f), logRows: Math.round(200_000 * f),
    },
  };
}

const describe = (s) =>
  `${s.chat.conversations.toLocaleString('en')} conv / ${s.chat.messages.toLocaleString('en')} msg; `
  + `${s.usage.rows.toLocaleString('en')} usage rows (${s.usage.days} d); `
  + `${s.observability.months} month(s): ${s.observability.rows.toLocaleString('en')} metrics, `
  + `${s.observability.logRows.toLocaleString('en')} activity logs, ${s.observability.logRows.toLocaleString('en')} events`;

/** A psql call as a promise (loads run side by side on separate connections). */
function sqlAsync(url, text) {
  return new Promise((resolve, reject) => {
    const p = spawn(pgBin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', text], { env: { ...process.env, ...pgEnv(url) } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}: ${err}\n${text.slice(0, 500)}`))));
  });
}

/** The measured cases for a chat layout. */
function cases(layout) {
  const asHeavyUser = (call) => asBenchUserRequest('\\set u 1\n', call);
  const user = benchUserUuidOf('u');
  return [
    {
      key: 'create_message', kind: 'write',
      name: 'create_message (server-side, user 2, random own conversation)',
      session: benchUserSession(2),
      script: `\\set k random(${layout.writerFirst}, ${layout.writerLast})\n`
        + `select public.create_message(${sqlConvId(':k::int')}, 'A new question from the benchmark.', 'user');\n`,
    },
    {
      // As the chat suite's judged case: one user per connection (users 3..10),
      // each into a random one of its own conversations (5 at 1x, 50 at 10x),
      // the claims set by the statement (pgbench has no per-connection setup).
      // The case above queues every call on user 2's quota row, so there a
      // commit's whole WAL flush is serial.
      key: 'create_message_users', kind: 'write',
      name: 'create_message (server-side, a user per connection, random own conversation)',
      session: benchUserSession(3),
      script: `\\set w 3 + :client_id % 8\n\\set j random(0, ${Math.floor((layout.conversations - layout.sharedFirst + 1) / (users - 2)) - 1})\n`
        + `\\set k ${layout.sharedFirst} + (:w - 3) + :j * ${users - 2}\n`
        + `select public.create_message(${sqlConvId(':k::int')}, 'A new question from the benchmark.', 'user') `
        + `from (select pg_catalog.set_config('request.jwt.claims', '{"role":"authenticated","aud":"authenticated","sub":"' || ${benchUserUuidOf('w')} || '"}', true)) as writer;\n`,
    },
    {
      key: 'record_usage', kind: 'write',
      name: 'record_usage (server-side, service role for a random user)',
      session: serviceSession,
      script: `\\set u random(1, ${users})\nselect public.record_usage(${user}, 'gpt-4o-mini', 1200, 300, 200, 0, null, 'chat_model_agent', 850);\n`,
    },
    {
      key: 'record_metric', kind: 'write',
      name: 'record_metric (server-side as a user)',
      session: benchUserSession(1, { aud: false }),
      script: `select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms');\n`,
    },
    {
      // a signed-in caller's correlation id is checked against every log
      // table (private.is_foreign_correlation): one probe per partition
      key: 'record_metric_corr', kind: 'write',
      name: 'record_metric with a new correlation id (server-side as a user)',
      session: benchUserSession(1, { aud: false }),
      script: `select public.record_metric('web', 'latency', 'request_duration', 12.5, 'ms', null, gen_random_uuid());\n`,
    },
    {
      key: 'conv_first', kind: 'read', pair: 'conv',
      name: 'list_conversations first page (20)',
      script: asHeavyUser('select * from public.list_conversations(p_limit => 20);'),
    },
    {
      key: 'conv_deep', kind: 'read', pair: 'conv', deep: true,
      name: `list_conversations ${layout.pages.toLocaleString('en')} pages deep (cursor)`,
      script: asHeavyUser(`select * from public.list_conversations(p_limit => 20, p_before_updated_at => '${layout.convCursorAt}', `
        + `p_before_id => '${layout.convCursorId}');`),
    },
    {
      key: 'msg_first', kind: 'read', pair: 'msg',
      name: 'list_messages first page (50)',
      script: asHeavyUser(`select * from public.list_messages(${sqlConvId(1)}, 50);`),
    },
    {
      key: 'msg_deep', kind: 'read', pair: 'msg', deep: true,
      name: `list_messages ${layout.pages.toLocaleString('en')} pages deep (cursor)`,
      script: asHeavyUser(`select * from public.list_messages(${sqlConvId(1)}, 50, p_before => '${layout.msgCursorId}');`),
    },
  ].map((c) => ({ ...c, latency: true }));
}

// Reads on the partitioned tables (and usage_logs, which is not partitioned),
// shown with EXPLAIN (costs off): [title, who (service | user), query].
const plans = [
  ['system_metrics: one series, last 24 hours (admin chart; now() prunes at executor start)', 'service',
    `select recorded_at, value from public.system_metrics
      where service_name = 'web' and metric_name = 'request_duration' and recorded_at >= now() - interval '24 hours'
      order by recorded_at desc limit 100`],
  ['system_metrics: one series, a literal month (pruned at plan time)', 'service',
    `select count(*), avg(value) from public.system_metrics
      where service_name = 'web' and metric_name = 'request_duration'
        and recorded_at >= date_trunc('month', timestamptz '${new Date().toISOString()}' at time zone 'UTC') at time zone 'UTC'
        and recorded_at < (date_trunc('month', timestamptz '${new Date().toISOString()}' at time zone 'UTC') + interval '1 month') at time zone 'UTC'`],
  ['user_activity_logs: my activity, last 7 days (as user 1, RLS)', 'user',
    `select activity_type, created_at from public.user_activity_logs
      where user_id = '${benchUserId(1)}' and created_at >= now() - interval '7 days' order by created_at desc limit 50`],
  ['analytics_events: events this month by name (admin)', 'service',
    `select event_name, count(*) from public.analytics_events
      where created_at >= date_trunc('month', now()) group by event_name`],
  ['system_metrics: the worker\'s last run (health_snapshot; no time range)', 'service',
    `select * from public.system_metrics where service_name = 'worker' and metric_name = 'worker.run'
      order by recorded_at desc limit 1`],
  ['system_metrics: a correlation probe (is_foreign_correlation; no time range)', 'service',
    `select exists (select 1 from public.system_metrics as t
      where t.correlation_id = gen_random_uuid() and t.user_id is distinct from gen_random_uuid())`],
  ['usage_logs (not partitioned): my usage for 30 days, as get_current_user_usage_summary reads it (as user 1)', 'user',
    `select agent_type, count(*), sum(total_cost) from public.usage_logs
      where user_id = '${benchUserId(1)}' and request_timestamp >= now() - interval '30 days' group by agent_type`],
];

// The statements behind the deep pages (list_conversations' and
// list_messages' queries with the cursor's values), EXPLAIN (analyze, buffers)
// as user 1: what a deep page reads at each scale.
const deepPageQueries = (l) => [
  ['list_conversations deep page: the keyset query', `select c.* from public.conversations as c
      where c.user_id = '${benchUserId(1)}' and not c.is_archived and (c.updated_at, c.id) < ('${l.convCursorAt}', '${l.convCursorId}')
      order by c.updated_at desc, c.id desc limit 20`],
  ['list_messages deep page: the cursor lookup', `select m.created_at, m.id from public.messages as m
      where m.id = '${l.msgCursorId}' and m.conversation_id = '${convId(1)}'`],
  ['list_messages deep page: the keyset query', `select page.* from (select m.* from public.messages as m
      where m.conversation_id = '${convId(1)}' and (m.created_at, m.id) < ('${l.msgCursorAt}', '${l.msgCursorId}')
      order by m.created_at desc, m.id desc limit 50) as page order by page.created_at, page.id`],
];

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** EXPLAIN (costs off) of `query` as bench user 1 or the service role: the plan's lines. */
function explain(url, who, query, options = 'costs off') {
  const act = who === 'user' ? actAsBenchUserNumbered(1) : actAsServiceRole;
  const out = psql(url, ['-At', '-c', `begin; ${act} explain (${options}) ${query}; commit;`], { stdio: ['ignore', 'pipe', 'pipe'] }).stdout;
  return out.split('\n').slice(1).filter((l) => l.trim());
}

/** A cluster with the data at factor f, loaded and described (plans, sizes); the caller destroys `db`. */
async function prepareScale(f) {
  const s = sizes(f);
  const layout = chatLayout(s.chat);
  log(`scale ${f}: ${describe(s)}`);
  const db = await createThrowawayDatabase({ durable: true });
  try {
    db.push();
    const ctx = makeContext(db.url);
    const adminUrl = `${dbUrl(db.port, { user: 'supabase_admin' })}?sslmode=disable`;
    const admin = { ...makeContext(adminUrl), sqlAsync: (text) => sqlAsync(adminUrl, text) };
    const t0 = Date.now();
    ctx.createBenchUsers(users);
    // Room for the load's WAL between checkpoints; reset before measuring.
    const settings = (sql) => { for (const stmt of sql) admin.sql(stmt); admin.sql('select pg_reload_conf()'); };
    settings([`alter system set max_wal_size = '32GB'`, `alter system set checkpoint_timeout = '1h'`]);
    // The three domains load side by side (two cores, separate tables).
    const loads = await Promise.all([
      loadChat(admin, { ...s.chat, superuser: true }),
      loadUsage(admin, { ...s.usage, superuser: true }),
      loadObservability(admin, { ...s.observability, superuser: true }),
    ]);
    const times = loads.flatMap((l) => l.times);
    const loaded = (Date.now() - t0) / 1000;
    let t1 = Date.now();
    admin.sql('vacuum analyze');
    times.push({ phase: 'vacuum analyze', seconds: (Date.now() - t1) / 1000 });
    t1 = Date.now();
    settings(['alter system reset max_wal_size', 'alter system reset checkpoint_timeout']);
    admin.sql('checkpoint');
    times.push({ phase: 'checkpoint', seconds: (Date.now() - t1) / 1000 });
    const total = (Date.now() - t0) / 1000;
    log(`scale ${f}: loaded in ${loaded.toFixed(0)} s, ${total.toFixed(0)} s with vacuum and checkpoint`);
    const tableSizes = ctx.sql(`
      select c.relname as table, to_char(coalesce(s.n, c.reltuples)::bigint, 'FM999,999,999') as rows,
             pg_size_pretty(coalesce(p.bytes, pg_total_relation_size(c.oid))) as total_size
        from pg_class as c
        left join lateral (select sum(pg_total_relation_size(inhrelid)) as bytes from pg_inherits where inhparent = c.oid) as p on c.relkind = 'p'
        left join lateral (select sum(k.reltuples) as n from pg_inherits as i join pg_class as k on k.oid = i.inhrelid where i.inhparent = c.oid) as s on c.relkind = 'p'
       where c.oid in ('public.conversations'::regclass, 'public.messages'::regclass, 'public.usage_logs'::regclass,
                       'public.daily_usage'::regclass, 'public.system_metrics'::regclass, 'public.user_activity_logs'::regclass,
                       'public.analytics_events'::regclass)
       order by 1`);

    const explained = plans.map(([title, who, query]) => ({ title, query, plan: explain(db.url, who, query) }));
    // run twice: the second one, with warm caches, is the steady state pgbench sees
    const deepPages = deepPageQueries(layout).map(([title, query]) => {
      explain(db.url, 'user', query, 'analyze, costs off');
      return { title, query, plan: explain(db.url, 'user', query, 'analyze, buffers, costs off') };
    });
    const all = [{ key: 'select1', name: 'select 1', kind: 'base', ...selectOne }, ...cases(layout)].map((c) => ({ ...c, runs: [] }));
    return { f, s, layout, db, times, loaded, total, tableSizes, explained, deepPages, all };
  } catch (e) {
    db.destroy();
    throw e;
  }
}

/** Medians of a scale's runs, each case's ratio to that scale's `select 1`. */
function summarize(r) {
  r.results = Object.fromEntries(r.all.map((c) => [c.key, {
    ...c,
    tps: median(c.runs.map((x) => x.tps)),
    p50: median(c.runs.map((x) => x.p50Ms)),
    p99: median(c.runs.map((x) => x.p99Ms)),
  }]));
  const base = r.results.select1.tps;
  for (const c of Object.values(r.results)) c.ratio = c.tps / base;
}

/**
 * Jobs whose cost follows the history: the hourly daily_metrics refresh (the
 * whole of analytics_events, user_ and agent_activity_logs) and the daily
 * retention purges, last (they drop the old partitions). [name, [seconds, returned]].
 */
function runJobs(r) {
  const timeIt = (sql) => {
    const t = Date.now();
    const value = psql(r.db.url, ['-At', '-c', `begin; ${actAsServiceRole} ${sql}; commit;`], { stdio: ['ignore', 'pipe', 'pipe'] })
      .stdout.trim().split('\n').slice(1).join(' ').replaceAll('|', ', ');
    return [(Date.now() - t) / 1000, value];
  };
  r.jobs = [
    ['refresh_daily_metrics() (hourly; returns its rows)', timeIt('select public.refresh_daily_metrics()')],
    ['cleanup_old_performance_metrics() (daily; system_metrics past 90 days; returns rows dropped)',
      timeIt('select public.cleanup_old_performance_metrics()')],
    ['purge_old_activity_logs() (daily; activity logs past 30 / 7 days; returns user, agent, error rows dropped)',
      timeIt('select * from public.purge_old_activity_logs()')],
  ];
}

// Every scale's cluster stays up until the end, and the measurements
// interleave: each case runs at every scale back to back (the order of the
// scales reversed every other round), so that small and large see the same
// machine: a durable commit's cost follows the disk, which `select 1` does
// not normalize, and this machine is shared.
const out = [];
try {
  for (const f of scales) out.push(await prepareScale(f));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < out[0].all.length; i++) {
      for (const sc of r % 2 ? [...out].reverse() : out) {
        const c = sc.all[i];
        log(`round ${r + 1}/${rounds}, scale ${sc.f}: ${c.name} ...`);
        c.runs.push(pgbench(sc.db.url, c));
      }
    }
  }
  for (const r of out) {
    summarize(r);
    runJobs(r);
  }
} finally {
  for (const r of out) r.db.destroy();
}

const small = out[0];
const large = out[out.length - 1];
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const scaleName = (r) => `${r.f}×`;

const rows = [['case', 'scale', 'tps / p50 / p99 ms', 'ratio to select 1', 'large ÷ small', 'verdict']];
const keys = ['select1', 'create_message', 'create_message_users', 'record_usage', 'record_metric', 'record_metric_corr', 'conv_first', 'conv_deep', 'msg_first', 'msg_deep'];
for (const key of keys) {
  for (const r of out) {
    const c = r.results[key];
    const firstKey = c.pair ? `${c.pair}_first` : null;
    let growth = '';
    let verdict = '';
    if (r !== small && out.length > 1) {
      const ref = small.results[key];
      growth = c.kind === 'read' ? `p50 ×${fmt(c.p50 / ref.p50)}` : c.kind === 'write' ? fmt(c.ratio / ref.ratio) : '';
      if (c.kind === 'write') verdict = c.ratio / ref.ratio >= 0.9 ? 'ok (≥ 0.9)' : 'MISSED (< 0.9)';
    }
    if (c.deep) {
      const q = c.p50 / r.results[firstKey].p50;
      verdict = `deep ÷ first p50 ${fmt(q)}: ${q <= 1.2 ? 'ok (≤ 1.2)' : 'MISSED (> 1.2)'}`;
    }
    rows.push([c.name, scaleName(r), `${fmt(c.tps, 0)} / ${fmt(c.p50)} / ${fmt(c.p99)}`, fmt(c.ratio), growth, verdict]);
  }
}

const lines = [];
lines.push(`Scales (${defaults.clients} clients, ${defaults.threads} threads, ${defaults.seconds} s per case, ${rounds} rounds, medians):`);
for (const r of out) lines.push(`- ${scaleName(r)}: ${describe(r.s)}`);
lines.push('', markdownTable(rows), '');
lines.push('Load phases, seconds (chat, usage and observability load side by side, so their phases overlap):', '');
const phaseNames = [...new Set(out.flatMap((r) => r.times.map((t) => t.phase)))];
lines.push(markdownTable([['phase', ...out.map(scaleName)],
  ...phaseNames.map((p) => [p, ...out.map((r) => fmt(r.times.find((t) => t.phase === p)?.seconds ?? NaN, 1))]),
  ['load (wall clock, users to last index)', ...out.map((r) => fmt(r.loaded, 0))],
  ['total with vacuum analyze and checkpoint', ...out.map((r) => fmt(r.total, 0))]]), '');
lines.push('Jobs whose cost follows the history (run once, after the cases):', '');
lines.push(markdownTable([['job', ...out.map(scaleName)],
  ...small.jobs.map(([name], i) => [name, ...out.map((r) => `${fmt(r.jobs[i][1][0], 2)} s (${r.jobs[i][1][1]})`)])]), '');
for (const r of out) lines.push(`Tables at ${scaleName(r)}:`, '```', r.tableSizes.trim(), '```', '');
lines.push(`Plans at ${scaleName(large)} (EXPLAIN (costs off)):`, '');
for (const e of large.explained) lines.push(`${e.title}:`, '```', ...e.plan, '```', '');
for (const r of out) {
  lines.push(`Deep pages at ${scaleName(r)} (EXPLAIN (analyze, buffers), warm):`, '');
  for (const e of r.deepPages) lines.push(`${e.title}:`, '```', ...e.plan, '```', '');
}
process.stdout.write(`${lines.join('\n')}\n`);
