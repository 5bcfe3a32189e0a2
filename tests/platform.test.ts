// Platform primitives under real concurrency: parallel connections, exact counts.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import { enqueueJobArgs, setCacheArgs } from '../shared/schemas/platform.ts';
import { userClient } from './support/api.ts';
import { asService, asUser, beginAs, expectRaceWinners, inTransaction, serviceClaims, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(24);
const run = randomUUID().slice(0, 8);
const queues: string[] = [];
const eventType = `vt${run.replace(/[^a-z0-9]/g, '')}`;

afterAll(async () => {
  await db.query('delete from private.jobs where queue_name = any($1)', [queues]);
  await db.query('delete from private.job_queues where name = any($1)', [queues]);
  await db.query(`delete from private.cache_entries where key like $1`, [`vt:${run}:%`]);
  await db.query(`delete from private.processed_messages where consumer like $1`, [`vt-${run}%`]);
  await db.query('delete from public.event_store where aggregate_type like $1', [`${eventType}%`]);
  await db.query('delete from private.event_streams where aggregate_type like $1', [`${eventType}%`]);
});

const svc = <T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  asService<T>(db, sql, params);

async function newQueue(suffix: string): Promise<string> {
  const name = `vt-${run}-${suffix}`;
  queues.push(name);
  await svc('select public.create_queue($1, p_lease_seconds => 300)', [name]);
  return name;
}

describe('job queue', () => {
  it('N workers claiming from one queue process every job exactly once', async () => {
    const queue = await newQueue('workers');
    const jobs = 300;
    await svc(`select public.enqueue_job($1, jsonb_build_object('n', n)) from generate_series(1, $2::int) as n`, [queue, jobs]);

    const processed: string[] = [];
    const worker = async (w: number) => {
      for (;;) {
        const { rows } = await svc<{ id: string }>('select id from public.claim_jobs($1, $2, 5)', [queue, `worker-${w}`]);
        if (!rows.length) return;
        for (const r of rows) {
          await svc('select public.complete_job($1, $2)', [r.id, `worker-${w}`]);
          processed.push(r.id);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));

    expect(processed).toHaveLength(jobs);
    expect(new Set(processed).size).toBe(jobs);
    const { rows } = await db.query(
      `select count(*) filter (where status = 'completed')::int as completed, count(*)::int as total,
              max(attempts)::int as max_attempts from private.jobs where queue_name = $1`,
      [queue],
    );
    expect(rows[0]).toEqual({ completed: jobs, total: jobs, max_attempts: 1 });
  });

  it('queues one job for a dedupe key however many callers race', async () => {
    const queue = await newQueue('dedupe');
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        svc<{ id: string }>(`select id from public.enqueue_job($1, '{}', p_dedupe_key => 'same-logical-job')`, [queue]),
      ),
    );
    const ids = new Set(results.map((r) => r.rows[0]!.id));
    expect(ids.size).toBe(1);
    const { rows } = await db.query('select count(*)::int as n from private.jobs where queue_name = $1', [queue]);
    expect(rows[0]!.n).toBe(1);
  });

  it('lets a user schedule only allowed job types and see only their own jobs', async () => {
    const [alice, bob] = await Promise.all([users.create(), users.create()]);
    const { rows } = await asUser<{ id: string; queue_name: string }>(
      db,
      alice,
      `select id, queue_name from public.schedule_job('quiz/generation.requested', 'Quiz', '{"video":"v"}')`,
    );
    expect(rows[0]!.queue_name).toBe('ai');
    await expect(asUser(db, alice, `select public.schedule_job('email/send', 'x', '{}')`)).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
    const mine = await asUser(db, bob, 'select id from public.list_jobs()');
    expect(mine.rows).toHaveLength(0);
    await expect(asUser(db, bob, 'select public.get_job($1)', [rows[0]!.id])).rejects.toMatchObject({ code: 'PT404' });
    await db.query('delete from private.jobs where id = $1', [rows[0]!.id]);
  });

  it('has one effect per message with mark_message_processed, however many deliveries race', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        svc<{ first: boolean }>(`select public.mark_message_processed($1, 'msg-1') as first`, [`vt-${run}-consumer`]),
      ),
    );
    expect(results.filter((r) => r.rows[0]!.first)).toHaveLength(1);
  });

  it('agrees with the zod contract on what enqueue_job accepts', () => {
    expect(enqueueJobArgs.safeParse({ p_queue: 'email', p_payload: { to: 'a@b.c' } }).success).toBe(true);
    expect(enqueueJobArgs.safeParse({ p_queue: 'Bad Queue', p_payload: {} }).success).toBe(false);
    expect(enqueueJobArgs.safeParse({ p_queue: 'email', p_payload: {}, p_priority: 5000 }).success).toBe(false);
  });
});

describe('job quotas and run times through the API (PostgREST, as the user)', () => {
  it('answers 429 once a basic user has scheduled the 3 quiz generations an hour the plan allows', async () => {
    const user = await users.create();
    const client = await userClient(user);
    try {
      for (let i = 0; i < 3; i++) {
        const ok = await client.rpc('schedule_job', { p_job_type: 'quiz/generation.requested', p_payload: { i } });
        expect(ok).toMatchObject({ error: null, status: 200 });
      }
      const denied = await client.rpc('schedule_job', { p_job_type: 'quiz/generation.requested', p_payload: {} });
      expect(denied.status).toBe(429);
      expect(denied.error).toMatchObject({ code: 'PT429' });
      expect(denied.error!.message).toMatch(/^rate limit exceeded for quiz_generation: try again in \d+ seconds$/);
      const { rows } = await db.query('select count(*)::int as n from private.jobs where created_by = $1', [user.id]);
      expect(rows[0]!.n).toBe(3);
    } finally {
      await db.query('delete from private.jobs where created_by = $1', [user.id]);
    }
  });

  it('refuses run times outside the user window with 400, and the queue metrics stay readable', async () => {
    const user = await users.create();
    const client = await userClient(user);
    for (const runAt of ['-infinity', 'infinity', '2000-01-01T00:00:00Z', new Date(Date.now() + 2 * 365 * 86400e3).toISOString()]) {
      const refused = await client.rpc('schedule_job', { p_job_type: 'video/upload.completed', p_run_at: runAt });
      expect(refused.status, runAt).toBe(400);
      expect(refused.error, runAt).toMatchObject({ code: SqlState.invalidParameterValue });
    }
    const { rows } = await db.query('select count(*)::int as n from private.jobs where created_by = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);
    const metrics = await svc<{ m: unknown[] }>('select public.get_queue_metrics() as m');
    expect(Array.isArray(metrics.rows[0]!.m)).toBe(true);
  });
});

describe('cache', () => {
  it('loses no increment under concurrency', async () => {
    const key = `vt:${run}:counter`;
    await Promise.all(Array.from({ length: 40 }, () => svc('select public.increment_cache($1, 60)', [key])));
    const { rows } = await svc<{ v: string }>('select public.get_cache($1) as v', [key]);
    expect(Number(rows[0]!.v)).toBe(40);
  });

  it('pops every list item exactly once with parallel poppers', async () => {
    const key = `vt:${run}:list`;
    const items = 60;
    for (let i = 0; i < items; i++) await svc('select public.cache_list_push($1, to_jsonb($2::int))', [key, i]);
    const popped: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const { rows } = await svc<{ v: number | null }>('select public.cache_list_pop($1) as v', [key]);
          if (rows[0]!.v === null) return;
          popped.push(rows[0]!.v);
        }
      }),
    );
    expect(popped.sort((a, b) => a - b)).toEqual(Array.from({ length: items }, (_, i) => i));
  });

  it('agrees with the zod contract on set_cache arguments', () => {
    expect(setCacheArgs.safeParse({ p_key: 'user:1', p_value: { a: 1 }, p_ttl_seconds: 300 }).success).toBe(true);
    expect(setCacheArgs.safeParse({ p_key: '', p_value: 1 }).success).toBe(false);
    expect(setCacheArgs.safeParse({ p_key: 'k', p_value: 1, p_ttl_seconds: 0 }).success).toBe(false);
  });
});

describe('event store', () => {
  const type = eventType;

  it('lets exactly one of two appends with the same expected version win', async () => {
    const stream = `race-${randomUUID()}`;
    await svc(`select public.append_event($1, $2, 'created', '{}', p_expected_version => 0)`, [stream, type]);
    for (const contenders of [2, 10]) {
      const { rows } = await svc<{ version: string }>(
        'select version from public.event_store where aggregate_type = $1 and aggregate_id = $2 order by version desc limit 1',
        [type, stream],
      );
      const expected = Number(rows[0]!.version);
      await expectRaceWinners(
        Array.from({ length: contenders }, (_, i) =>
          svc(`select public.append_event($1, $2, 'changed', jsonb_build_object('i', $3::int), p_expected_version => $4)`, [
            stream,
            type,
            i,
            expected,
          ]),
        ),
        1,
        'PT409',
        /^wrong expected version: expected \d+, stream .* is at version \d+$/,
      );
    }
    const { rows } = await svc<{ versions: string[] }>(
      'select array_agg(version order by version)::text[] as versions from public.event_store where aggregate_type = $1 and aggregate_id = $2',
      [type, stream],
    );
    expect(rows[0]!.versions).toEqual(['1', '2', '3']);
  });

  async function readAll(cursor: { order: string; position: string }, category: string) {
    const { rows } = await svc<{ aggregate_id: string; version: string; transaction_order: string; global_position: string }>(
      'select aggregate_id, version, transaction_order, global_position from public.read_events($1, $2, 1000, $3)',
      [cursor.order, cursor.position, category],
    );
    if (rows.length) {
      cursor.order = rows[rows.length - 1]!.transaction_order;
      cursor.position = rows[rows.length - 1]!.global_position;
    }
    return rows;
  }

  /** An append by the service role in a transaction left open: commit() ends it. */
  async function openAppend(stream: string, category: string) {
    const tx = await beginAs(db, serviceClaims);
    const { rows } = await tx.client.query<{ global_position: string }>(
      `select global_position from public.append_event($1, $2, 'late', '{}')`,
      [stream, category],
    );
    return { ...tx, position: rows[0]!.global_position };
  }

  it('still delivers an event that commits after a later position was read', async () => {
    const category = `${type}late`;
    const cursor = { order: '0', position: '0' };

    // A takes a position and stays open; B takes a later position and commits.
    const a = await openAppend('stream-a', category);
    const { rows: b } = await svc<{ global_position: string }>(
      `select global_position from public.append_event('stream-b', $1, 'early', '{}')`,
      [category],
    );
    expect(BigInt(b[0]!.global_position)).toBeGreaterThan(BigInt(a.position));

    // What a naive reader ("position > last seen") sees now: B only. Moving its
    // cursor to B's position would skip A for ever once A commits.
    const { rows: naive } = await svc<{ aggregate_id: string }>(
      'select aggregate_id from public.event_store where aggregate_type = $1 order by global_position',
      [category],
    );
    expect(naive.map((r) => r.aggregate_id)).toEqual(['stream-b']);

    // read_events holds B back while A, with an earlier position, can still commit.
    const first = await readAll(cursor, category);
    expect(first.map((r) => r.aggregate_id)).not.toContain('stream-a');

    await a.commit();
    const second = await readAll(cursor, category);
    const seen = [...first, ...second].map((r) => r.aggregate_id);
    expect(seen.sort()).toEqual(['stream-a', 'stream-b']);
  });

  it('still delivers it when the late transaction started after the early one', async () => {
    const category = `${type}late2`;
    const cursor = { order: '0', position: '0' };
    // B gets its transaction id first but appends last; A appends in between and stays open.
    const b = await beginAs(db, serviceClaims);
    await b.client.query('select pg_current_xact_id()');
    const a = await openAppend('stream-a', category);
    await b.client.query(`select public.append_event('stream-b', $1, 'early', '{}')`, [category]);
    await b.commit();

    const first = await readAll(cursor, category);
    await a.commit();
    const second = await readAll(cursor, category);
    const seen = [...first, ...second].map((r) => r.aggregate_id);
    expect(seen.sort()).toEqual(['stream-a', 'stream-b']);
  });

  it('gives a polling reader every event exactly once, each stream in version order, while writers race', async () => {
    const category = `${type}poll`;
    const streams = 6;
    const perStream = 15;
    const cursor = { order: '0', position: '0' };
    const seen: { aggregate_id: string; version: string }[] = [];
    let writing = true;

    const reader = (async () => {
      while (writing) seen.push(...(await readAll(cursor, category)));
    })();
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        for (let v = 1; v <= perStream; v++) {
          // some appends hold their transaction open a little before committing
          await inTransaction(db, serviceClaims, async (client) => {
            await client.query(`select public.append_event($1, $2, 'tick', '{}', p_expected_version => $3)`, [`s${s}`, category, v - 1]);
            if ((s + v) % 4 === 0) await new Promise((r) => setTimeout(r, 15));
          });
        }
      }),
    );
    writing = false;
    await reader;
    seen.push(...(await readAll(cursor, category)));

    expect(seen).toHaveLength(streams * perStream);
    expect(new Set(seen.map((r) => `${r.aggregate_id}/${r.version}`)).size).toBe(streams * perStream);
    const byType = await svc<{ n: number }>('select count(*)::int as n from public.read_events(0, 0, 10000, $1, $2)', [category, 'tick']);
    expect(byType.rows[0]!.n).toBe(streams * perStream);
    const otherType = await svc<{ n: number }>('select count(*)::int as n from public.read_events(0, 0, 10000, $1, $2)', [category, 'tock']);
    expect(otherType.rows[0]!.n).toBe(0);
    for (let s = 0; s < streams; s++) {
      const versions = seen.filter((r) => r.aggregate_id === `s${s}`).map((r) => Number(r.version));
      expect(versions).toEqual(Array.from({ length: perStream }, (_, i) => i + 1));
    }
  });
});
