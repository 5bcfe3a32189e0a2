// Observability under real concurrency (parallel connections, exact counts),
// refresh of daily_metrics without blocking readers, and the zod contract
// against the SQL checks.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import { logUserActivityArgs, purgeResult, recordMetricArgs, trackEventArgs } from '../shared/schemas/observability.ts';
import { expectZodAgreesWithSql, namedCall } from './support/contract.ts';
import { userClient } from './support/api.ts';
import { actAs, asService, asUser, beginAs, claimsFor, expectRaceWinners, inTransaction, serviceClaims, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(20); // users' activity logs and analytics events go with them
const metricService = `vitest-${randomUUID()}`;
let savedSettings: unknown;

beforeAll(async () => {
  const { rows } = await db.query(`select config_data from public.admin_config where config_key = 'logging_settings'`);
  savedSettings = rows[0]?.config_data;
  await db.query(
    `insert into public.admin_config (config_key, config_data)
     values ('logging_settings', '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}')
     on conflict (config_key) do update
       set config_data = public.admin_config.config_data || '{"user_activity_logging_enabled": true, "agent_activity_logging_enabled": true}'`,
  );
});

afterAll(async () => {
  if (savedSettings === undefined) await db.query(`delete from public.admin_config where config_key = 'logging_settings'`);
  else await db.query(`update public.admin_config set config_data = $1 where config_key = 'logging_settings'`, [savedSettings]);
  await db.query('delete from public.system_metrics where service_name = $1', [metricService]);
});

describe('log writers under concurrency', () => {
  it('records every one of many parallel activity writes, each as its own caller under its own correlation id', async () => {
    const eight = await users.createMany(8);
    const correlations = new Map(eight.map((u) => [u.id, randomUUID()]));
    const calls = eight.flatMap((u) =>
      Array.from({ length: 15 }, (_, i) =>
        asUser(db, u, 'select public.log_user_activity($1, $2, p_correlation_id => $3, p_session_id => $4) as id', [
          'chat_message_send',
          'chat',
          correlations.get(u.id),
          `s-${i % 3}`,
        ]),
      ),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => typeof r.rows[0]?.id === 'string')).toBe(true);
    const { rows } = await db.query(
      `select user_id, correlation_id, count(*)::int as n from public.user_activity_logs
        where correlation_id = any($1::uuid[]) group by user_id, correlation_id`,
      [[...correlations.values()]],
    );
    expect(rows).toHaveLength(8);
    for (const r of rows) {
      expect(r.n).toBe(15);
      expect(r.correlation_id).toBe(correlations.get(r.user_id));
    }
  });

  it('refuses every parallel attempt to write under a correlation id another user started', async () => {
    const [alice, mallory] = await Promise.all([users.create(), users.create()]);
    const correlation = randomUUID();
    await asUser(db, alice, 'select public.track_event($1, p_correlation_id => $2)', ['chat_opened', correlation]);
    const writers = [
      `select public.log_error('app', 'x', 'forged', p_correlation_id => $1)`,
      `select public.track_event('x', p_correlation_id => $1)`,
      `select public.record_metric('web', 'latency', 'x', 1, p_correlation_id => $1)`,
      `select public.log_user_activity('x', 'chat', $1)`,
      `select public.log_agent_activity('a', 'b', 'c', $1)`,
      `select public.log_audit_event(null, null, 'x', 'y', p_correlation_id => $1)`,
    ];
    await expectRaceWinners(
      writers.flatMap((sql) => Array.from({ length: 3 }, () => asUser(db, mallory, sql, [correlation]))),
      0,
      SqlState.insufficientPrivilege,
    );
    const trace = await asService(db, 'select public.get_activity_trace($1) as t', [correlation]);
    const t = trace.rows[0]?.t;
    const seenWriters = ['user_activity', 'agent_activity', 'errors', 'events', 'audit'].flatMap((k) =>
      ((t?.[k] ?? []) as Array<{ written_by: { id: string } }>).map((e) => e.written_by.id),
    );
    expect(seenWriters).toEqual([alice.id]);
  });

  it('closes a new correlation id two users start at once, so neither writes under it again', async () => {
    const [alice, bob] = await Promise.all([users.create(), users.create()]);
    const correlation = randomUUID();
    const first = await beginAs(db, claimsFor(alice));
    try {
      await first.client.query('select public.track_event($1, p_correlation_id => $2)', ['chat_opened', correlation]);
      const firstPid = (await first.client.query('select pg_backend_pid() as pid')).rows[0].pid;
      // bob's check sees no committed entry; his writer-row insert waits on alice's
      const second = asUser(db, bob, 'select public.track_event($1, p_correlation_id => $2)', ['chat_opened', correlation]);
      for (let i = 0; i < 200; i++) {
        const waiting = await db.query('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [firstPid]);
        if (waiting.rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.commit();
      await second;
    } finally {
      await first.rollback();
    }
    const writer = await db.query('select user_id from private.correlation_writers where correlation_id = $1', [correlation]);
    expect(writer.rows).toEqual([{ user_id: null }]);
    for (const u of [alice, bob]) {
      await expect(asUser(db, u, 'select public.track_event($1, p_correlation_id => $2)', ['x', correlation])).rejects.toMatchObject({
        code: SqlState.insufficientPrivilege,
      });
    }
  });

  it('refuses every parallel attempt to log as someone else and writes nothing', async () => {
    const [mallory, victim] = await Promise.all([users.create(), users.create()]);
    await expectRaceWinners(
      Array.from({ length: 10 }, () =>
        asUser(db, mallory, 'select public.log_user_activity($1, $2, p_user_id => $3)', ['auth_login', 'authentication', victim.id]),
      ),
      0,
      SqlState.insufficientPrivilege,
    );
    const { rows } = await db.query('select count(*)::int as n from public.user_activity_logs where user_id = $1', [victim.id]);
    expect(rows[0].n).toBe(0);
  });

  it('keeps every parallel metric sample and analytics event', async () => {
    const user = await users.create();
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) =>
        asService(db, 'select public.record_metric($1, $2, $3, $4, $5)', [metricService, 'latency', 'request_duration', i, 'ms']),
      ),
      ...Array.from({ length: 30 }, (_, i) =>
        asUser(db, user, 'select public.track_event($1, p_session_id => $2)', ['page_view', `sess-${i % 5}`]),
      ),
    ]);
    const m = await db.query('select count(*)::int as n, sum(value)::int as total from public.system_metrics where service_name = $1', [
      metricService,
    ]);
    expect(m.rows[0]).toEqual({ n: 40, total: (39 * 40) / 2 });
    const e = await asUser(db, user, 'select total_events::int, total_sessions::int from public.user_engagement_metrics');
    expect(e.rows).toEqual([{ total_events: 30, total_sessions: 5 }]);
  });
});

describe('over the Data API, as the user who tries', () => {
  it('a spent telemetry quota is a 429 on every writer', async () => {
    const user = await users.create();
    await asUser(db, user, `select count(public.track_event('page_view')) from generate_series(1, 120)`);
    // The window refills one write every half second on the real clock; an
    // hour more on the user's state keeps it spent however slow the requests.
    const spent = await db.query(
      `update private.rate_limit_state set tat = tat + interval '1 hour' where user_id = $1 and bucket like 'telemetry:%'`, [user.id]);
    expect(spent.rowCount).toBe(1);
    const client = await userClient(user);
    for (const [fn, args] of [
      ['track_event', { p_event_name: 'page_view' }],
      ['record_metric', { p_service_name: 'web', p_metric_type: 'latency', p_metric_name: 'ttfb', p_value: 1 }],
      ['log_error', { p_error_type: 'app', p_error_category: 'x', p_error_message: 'y' }],
    ] as const) {
      const { error, status } = await client.rpc(fn, args);
      expect(status, fn).toBe(429);
      expect(error?.code, fn).toBe(SqlState.rateLimited);
      expect(error?.message, fn).toMatch(/^rate limit exceeded for telemetry: try again in \d+ seconds$/);
    }
  });

  it('a user cannot write a system audit event, nor an audit or log row through the table endpoint', async () => {
    const [user, victim] = await Promise.all([users.create(), users.create()]);
    const client = await userClient(user);
    const forged = await client.rpc('log_audit_event', {
      p_actor_type: null,
      p_actor_identifier: null,
      p_action: 'admin.role_granted',
      p_resource_type: 'user',
      p_resource_id: victim.id,
    });
    expect(forged.status).toBe(403);
    expect(forged.error?.message).toBe('invalid action: admin.role_granted is reserved for the system');
    const audit = await client
      .from('system_audit_logs')
      .insert({ actor_type: 'system', actor_identifier: 'cron', action: 'admin.role_granted', resource_type: 'user' });
    expect(audit.error?.code).toBe(SqlState.insufficientPrivilege);
    const err = await client.from('error_logs').insert({ error_type: 'api', error_category: 'x', error_message: 'forged' });
    expect(err.error?.code).toBe(SqlState.insufficientPrivilege);
    const { rows } = await db.query(
      `select (select count(*) from public.system_audit_logs where resource_id = $1)::int as audit,
              (select count(*) from public.error_logs where error_message = 'forged')::int as errors`,
      [victim.id],
    );
    expect(rows[0]).toEqual({ audit: 0, errors: 0 });
  });
});

describe('purge_old_activity_logs', () => {
  it('counts each purged row exactly once when purges run in parallel', async () => {
    const user = await users.create();
    // months long past, so a real stack's data is not in range
    await db.query(`select private.ensure_partitions('public.user_activity_logs', 3, '2024-01-10')`);
    await db.query(
      `insert into public.user_activity_logs (user_id, correlation_id, activity_type, activity_category, created_at)
       select $1, gen_random_uuid(), 'seeded', 'test', timestamptz '2024-01-01' + n * interval '10 hours'
         from generate_series(1, 200) as n`,
      [user.id],
    );
    const { rows: expected } = await db.query(
      `select count(*)::int as n from public.user_activity_logs where user_id = $1 and created_at < '2024-03-01'`,
      [user.id],
    );
    const results = await Promise.all(
      Array.from({ length: 4 }, () => asService(db, `select * from public.purge_old_activity_logs('2024-04-10')`)),
    );
    const purged = results.map((r) => purgeResult.parse(normalise(r.rows[0] ?? {})).user_logs_deleted);
    expect(purged.reduce((a, b) => a + b, 0)).toBe(expected[0].n);
    const { rows: left } = await db.query(`select count(*)::int as n from public.user_activity_logs where user_id = $1`, [user.id]);
    expect(left[0].n).toBe(200 - expected[0].n);
    // drop what this test created
    await db.query(
      `select private.drop_partitions_before('public.user_activity_logs', '2024-05-01')`,
    );
  });
});

describe('asynchronous commit of telemetry', () => {
  it('relaxes only a transaction that has written nothing else, and never for the audit trail', async () => {
    const user = await users.create();
    const commitModeAfter = (statements: string[]) =>
      inTransaction(
        db,
        null,
        async (client) => {
          // the throwaway test cluster may default to off: start each case from on
          await client.query('set local synchronous_commit = on');
          await actAs(client, claimsFor(user));
          for (const sql of statements) await client.query(sql);
          return (await client.query('show synchronous_commit')).rows[0]?.synchronous_commit;
        },
        { rollback: true },
      );
    expect(await commitModeAfter([`select public.record_metric('web', 'latency', 'ttfb', 1)`])).toBe('off');
    expect(await commitModeAfter([`select public.log_user_activity('chat_view', 'chat')`])).toBe('off');
    expect(await commitModeAfter([`select public.track_event('page_view')`])).toBe('off');
    expect(await commitModeAfter([`select public.log_audit_event(null, null, 'chat_deleted', 'chat')`])).toBe('on');
    expect(
      await commitModeAfter([`select public.touch_last_seen()`, `select public.record_metric('web', 'latency', 'ttfb', 1)`]),
    ).toBe('on');
  });
});

describe('refresh_daily_metrics', () => {
  it('does not block readers of daily_metrics while it runs', async () => {
    const reader = await db.connect();
    try {
      await inTransaction(db, serviceClaims, async (refresher) => {
        await refresher.query('select public.refresh_daily_metrics()'); // holds its lock until commit
        await reader.query(`set lock_timeout = '2s'`);
        const { rows } = await reader.query('select count(*)::int as n from private.daily_metrics');
        expect(rows[0].n).toBeGreaterThanOrEqual(0);
      });
    } finally {
      await reader.query('reset lock_timeout');
      reader.release();
    }
  });
});

describe('the zod contract agrees with the SQL checks', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['log_user_activity', 'valid', { p_activity_type: 'chat_create', p_activity_category: 'chat' }],
    ['log_user_activity', 'type of 50', { p_activity_type: 't'.repeat(50), p_activity_category: 'chat' }],
    ['log_user_activity', 'type of 51', { p_activity_type: 't'.repeat(51), p_activity_category: 'chat' }],
    ['log_user_activity', 'blank category', { p_activity_type: 'x', p_activity_category: '   ' }],
    ['log_user_activity', 'IPv4', { p_activity_type: 'x', p_activity_category: 'chat', p_ip_address: '192.0.2.10' }],
    ['log_user_activity', 'IPv6', { p_activity_type: 'x', p_activity_category: 'chat', p_ip_address: '2001:db8::1' }],
    ['log_user_activity', 'bad IP', { p_activity_type: 'x', p_activity_category: 'chat', p_ip_address: '999.1.1.1' }],
    ['log_user_activity', 'network', { p_activity_type: 'x', p_activity_category: 'chat', p_ip_address: '10.0.0.0/8' }],
    ['log_user_activity', 'lower-case method', { p_activity_type: 'x', p_activity_category: 'chat', p_request_method: 'post' }],
    ['log_user_activity', 'bad method', { p_activity_type: 'x', p_activity_category: 'chat', p_request_method: 'FETCH' }],
    ['log_user_activity', 'array metadata', { p_activity_type: 'x', p_activity_category: 'chat', p_activity_metadata: [1] }],
    ['record_metric', 'valid', { p_service_name: 'web', p_metric_type: 'latency', p_metric_name: 'ttfb', p_value: 12.5 }],
    ['record_metric', 'unit of 21', { p_service_name: 'web', p_metric_type: 'latency', p_metric_name: 'ttfb', p_value: 1, p_unit: 'u'.repeat(21) }],
    ['record_metric', 'blank service', { p_service_name: '', p_metric_type: 'latency', p_metric_name: 'ttfb', p_value: 1 }],
    ['record_metric', 'tags object', { p_service_name: 'web', p_metric_type: 'l', p_metric_name: 'n', p_value: 1, p_tags: { a: 1 } }],
    ['track_event', 'valid', { p_event_name: 'page_view', p_session_id: 's-1' }],
    ['track_event', 'session of 101', { p_event_name: 'page_view', p_session_id: 's'.repeat(101) }],
    ['track_event', 'category of 51', { p_event_name: 'page_view', p_event_category: 'c'.repeat(51) }],
    ['track_event', 'string properties', { p_event_name: 'page_view', p_properties: 'x' }],
    ['log_user_activity', 'reserved category', { p_activity_type: 'x', p_activity_category: 'System' }],
    ['log_user_activity', 'reserved type prefix', { p_activity_type: 'admin.role_granted', p_activity_category: 'chat' }],
    ['log_user_activity', 'unreserved lookalike', { p_activity_type: 'administer', p_activity_category: 'chat' }],
    ['record_metric', 'reserved service', { p_service_name: 'auth:gotrue', p_metric_type: 'l', p_metric_name: 'n', p_value: 1 }],
    ['record_metric', 'value 1e15', { p_service_name: 'web', p_metric_type: 'l', p_metric_name: 'n', p_value: 1e15 }],
    ['record_metric', 'value past 1e15', { p_service_name: 'web', p_metric_type: 'l', p_metric_name: 'n', p_value: -1.5e15 }],
    ['track_event', 'reserved event', { p_event_name: 'service.restarted' }],
  ];
  const schemas = { log_user_activity: logUserActivityArgs, record_metric: recordMetricArgs, track_event: trackEventArgs };
  const jsonArgs = ['p_activity_metadata', 'p_tags', 'p_properties'];

  it.each(cases)('%s: %s', async (fn, _name, args) => {
    const user = await users.create();
    const { sql, params } = namedCall(`public.${fn}`, args, jsonArgs);
    // a bad value is 22023; a reserved name is 42501 (the caller may not write it)
    await expectZodAgreesWithSql(schemas[fn as keyof typeof schemas], args, asUser(db, user, sql, params), undefined,
      [SqlState.invalidParameterValue, SqlState.insufficientPrivilege]);
  });
});

/** pg returns bigint as string. */
function normalise(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]));
}
