#!/usr/bin/env node
// Retention by partition drop vs by row delete, side by side.
//
//   node benchmarks/purge.mjs            (PURGE_ROWS=1000000 by default)
//
// A throwaway durable cluster (fsync on) with the migrations; two past months
// of public.user_activity_logs with PURGE_ROWS rows each; then
//   A. the way retention runs here: private.drop_partitions_before() — counts
//      the month's rows (the purge reports exact counts) and drops the partition;
//   B. the row-by-row way (seed 002's purge): DELETE of the other month's rows,
//      then the VACUUM that is needed before the space can be reused.
// For each: wall time and the WAL it wrote. Not part of npm test or npm run bench
// (it takes a minute or two); the cluster is removed afterwards.
import pg from 'pg';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { benchUserId, markdownTable } from './harness.mjs';

const rows = Number(process.env.PURGE_ROWS ?? 1_000_000);

// createThrowawayDatabase retries on a fresh port when a parallel run takes ours.
const db = await createThrowawayDatabase({ durable: true });
const client = new pg.Client({ connectionString: db.url });

async function measure(label, sql) {
  const before = (await client.query('select pg_current_wal_insert_lsn() as lsn')).rows[0].lsn;
  const t0 = process.hrtime.bigint();
  const result = await client.query(sql);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const wal = (await client.query('select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::bigint as bytes', [before])).rows[0].bytes;
  return { label, ms, walMiB: Number(wal) / 1024 / 1024, result };
}

try {
  db.push();
  await client.connect();
  const userId = benchUserId(0xbeef); // a bench user's id, outside the suites' 1..10,000
  await client.query(
    `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', 'purge@bench.local', '', '{}', '{}', now(), now())`,
    [userId],
  );
  await client.query(`select private.ensure_partitions('public.user_activity_logs', 1, '2025-01-15')`);
  for (const month of ['2025-01-01', '2025-02-01']) {
    const t0 = Date.now();
    await client.query(
      `insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, activity_metadata,
                                              session_id, request_path, request_method, created_at)
       select $1, gen_random_uuid(), 'chat_message_send', 'chat', jsonb_build_object('n', n), 's-' || (n % 1000),
              '/api/chat', 'POST', timestamptz '${month}' + (n % 2419200) * interval '1 second'
         from generate_series(1, $2) as n`,
      [userId, rows],
    );
    process.stderr.write(`loaded ${rows} rows into ${month.slice(0, 7)} in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  }
  await client.query('vacuum analyze public.user_activity_logs');

  const drop = await measure('A. drop the month partition (private.drop_partitions_before: count + drop)',
    `select private.drop_partitions_before('public.user_activity_logs', '2025-02-01') as n`);
  const del = await measure("B. delete the month's rows (seed 002 purge)",
    `delete from public.user_activity_logs where created_at >= '2025-02-01' and created_at < '2025-03-01'`);
  const vac = await measure('B. then vacuum the partition so the space can be reused',
    'vacuum private.user_activity_logs_p202502');

  const removed = { A: Number(drop.result.rows[0].n), B: del.result.rowCount };
  const lines = [
    `rows per month: ${rows}; removed: A ${removed.A}, B ${removed.B}`,
    '',
    markdownTable([['method', 'time (ms)', 'WAL written (MiB)'], ...[drop, del, vac].map((m) => [m.label, m.ms.toFixed(0), m.walMiB.toFixed(1)])]),
    '',
    `delete + vacuum vs drop: ${((del.ms + vac.ms) / drop.ms).toFixed(1)}x the time, ${((del.walMiB + vac.walMiB) / Math.max(drop.walMiB, 0.001)).toFixed(0)}x the WAL`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await client.end().catch(() => undefined);
  db.destroy();
}
