// Usage under real concurrency (parallel connections, exact counts), and the
// zod contract against what the SQL returns.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqlState } from '../shared/errors.ts';
import {
  UsageSqlState,
  checkRateLimitArgs,
  creditStatus,
  dailyUsageSeries,
  featureGateDetail,
  rateLimitHeaders,
  rateLimitResult,
  recordUsageArgs,
  reservation,
  usageLog,
  usageSummary,
  userPlan,
} from '../shared/schemas/usage.ts';
import { expectZodAgreesWithSql, namedCall } from './support/contract.ts';
import { asAnon, asService, asUser, expectRaceWinners, testDatabase } from './support/db.ts';

const { db, users } = testDatabase(24);

/** The usage clock pinned for a request (`app.usage_now`), as the pgTAP tests do. */
const at = (now: string) => ({ settings: { 'app.usage_now': now } });

describe('check_rate_limit under concurrency', () => {
  it('admits exactly the limit when many calls race (basic chat: 10 a minute)', async () => {
    const user = await users.create();
    const now = '2026-05-01T10:00:00Z';
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        asUser<{ r: unknown }>(db, user, `select public.check_rate_limit('chat') as r`, [], at(now)).then((q) =>
          rateLimitResult.parse(q.rows[0]!.r),
        ),
      ),
    );
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(10);
    expect(results.filter((r) => !r.allowed)).toHaveLength(30);
    // every remaining count from 9 down to 0 was handed out exactly once
    expect(allowed.map((r) => r.remaining).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of results.filter((x) => !x.allowed)) expect(r.retry_after_seconds).toBe(6);
    // the denials consumed nothing and share one bounded violations row
    const status = rateLimitResult.parse(
      (await asUser<{ r: unknown }>(db, user, `select public.get_rate_limit_status('chat') as r`, [], at(now))).rows[0]!.r,
    );
    expect(status.remaining).toBe(0);
    const { rows } = await db.query(
      'select count(*)::int as rows, sum(denied_count)::int as denied from public.rate_limit_violations where user_id = $1',
      [user.id],
    );
    expect(rows[0]).toEqual({ rows: 1, denied: 30 });
  });

  it('is exact on the fast path too: with the window open, 40 racing calls share exactly the 9 left', async () => {
    const user = await users.create();
    const now = '2026-05-01T10:00:00Z';
    // the first call creates the state row; every racer then meets it (one UPDATE each)
    await asUser(db, user, `select public.check_rate_limit('chat')`, [], at(now));
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        asUser<{ r: unknown }>(db, user, `select public.check_rate_limit('chat') as r`, [], at(now)).then((q) =>
          rateLimitResult.parse(q.rows[0]!.r),
        ),
      ),
    );
    const allowed = results.filter((r) => r.allowed);
    expect(allowed.map((r) => r.remaining).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of results.filter((x) => !x.allowed)) expect(r.retry_after_seconds).toBe(6);
  });

  it('consume_quota admits exactly the quota left when writes race (basic quiz_generation: 3 an hour)', async () => {
    const user = await users.create();
    const now = '2026-05-01T10:00:00Z';
    const consume = () => asUser(db, user, `select private.consume_quota('quiz_generation')`, [], at(now));
    await consume();
    await expectRaceWinners(Array.from({ length: 20 }, consume), 2, 'PT429', /^rate limit exceeded for quiz_generation: try again in \d+ seconds$/);
  });

  it('is all-or-nothing across plans: a pro user racing gets exactly 50', async () => {
    const user = await users.create();
    await asService(db, `select public.set_user_plan($1, 'pro')`, [user.id]);
    const now = '2026-05-01T10:00:00Z';
    const results = await Promise.all(
      Array.from({ length: 70 }, () =>
        asUser<{ allowed: boolean }>(db, user, `select (public.check_rate_limit('chat') ->> 'allowed')::boolean as allowed`, [], at(now)),
      ),
    );
    expect(results.filter((q) => q.rows[0]!.allowed)).toHaveLength(50);
  });

  it('gives the values an edge function turns into RateLimit and Retry-After headers', async () => {
    const user = await users.create();
    const now = '2026-05-01T10:00:00Z';
    const q = (sql: string) => asUser<{ r: unknown }>(db, user, sql, [], at(now)).then((x) => rateLimitResult.parse(x.rows[0]!.r));
    const first = await q(`select public.check_rate_limit('quiz_generation') as r`);
    expect(rateLimitHeaders(first)).toEqual({
      'RateLimit-Policy': '"quiz_generation:3600";q=3;w=3600',
      RateLimit: '"quiz_generation:3600";r=2;t=1200',
      'X-RateLimit-Limit': '3',
      'X-RateLimit-Remaining': '2',
      'X-RateLimit-Reset': String(Date.parse('2026-05-01T10:20:00Z') / 1000),
    });
    await q(`select public.check_rate_limit('quiz_generation', 2) as r`);
    const denied = await q(`select public.check_rate_limit('quiz_generation') as r`);
    expect(rateLimitHeaders(denied)['Retry-After']).toBe('1200');
  });

  it('is refused to anon, and the argument schema matches the SQL checks', async () => {
    await expect(asAnon(db, `select public.check_rate_limit('chat')`)).rejects.toMatchObject({
      code: SqlState.insufficientPrivilege,
    });
    const user = await users.create();
    for (const args of [{ p_endpoint: 'chat' }, { p_endpoint: 'Chat' }, { p_endpoint: 'chat', p_cost: 0 }, { p_endpoint: 'x'.repeat(65) }]) {
      const call = asUser(db, user, `select public.get_rate_limit_status($1, $2)`, [args.p_endpoint, args.p_cost ?? 1]);
      await expectZodAgreesWithSql(checkRateLimitArgs, args, call);
    }
  });
});

describe('credits under concurrency', () => {
  it('never lets parallel reservations overspend the cap (basic: 1.00 a day)', async () => {
    const user = await users.create();
    const now = '2026-05-02T08:00:00Z';
    const results = await Promise.all(
      Array.from({ length: 24 }, () =>
        asService<{ r: unknown }>(db, `select public.reserve_credits($1, p_amount => 0.15, p_now => $2) as r`, [user.id, now]).then(
          (q) => reservation.parse(q.rows[0]!.r),
        ),
      ),
    );
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(6); // 6 x 0.15 = 0.90; a 7th would make 1.05
    for (const r of results.filter((x) => !x.allowed)) expect(r.reason).toBe('daily_credit_limit');

    // settle every hold in parallel at its actual cost (gpt-4o: 30k in + 7.5k out = 0.15)
    const settled = await Promise.all(
      allowed.map((r) =>
        asService<{ r: unknown }>(
          db,
          `select to_jsonb(public.record_usage($1, 'gpt-4o', 30000, 7500, p_reservation_id => $2, p_now => $3)) as r`,
          [user.id, r.reservation_id, now],
        ).then((q) => usageLog.parse(q.rows[0]!.r)),
      ),
    );
    expect(settled.map((s) => s.total_cost)).toEqual(Array(6).fill(0.15));
    const status = creditStatus.parse(
      (await asService<{ r: unknown }>(db, `select private.credit_status($1, $2) as r`, [user.id, now])).rows[0]!.r,
    );
    expect(status.day.used).toBe(0.9);
    expect(status.day.reserved).toBe(0);
    expect(status.day.used + status.day.reserved).toBeLessThanOrEqual(status.day.limit);
  });

  it('interleaves reservations and settlements without ever holding more than the cap', async () => {
    const user = await users.create();
    const now = '2026-05-03T08:00:00Z';
    const rounds = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const r = reservation.parse(
          (await asService<{ r: unknown }>(db, `select public.reserve_credits($1, p_amount => 0.3, p_now => $2) as r`, [user.id, now]))
            .rows[0]!.r,
        );
        if (!r.allowed) return 0;
        // the call costs less than its worst case: 0.2
        await asService(db, `select public.record_usage($1, 'gpt-4o', 40000, 10000, p_reservation_id => $2, p_now => $3)`, [
          user.id,
          r.reservation_id,
          now,
        ]);
        return 1;
      }),
    );
    const status = creditStatus.parse(
      (await asService<{ r: unknown }>(db, `select private.credit_status($1, $2) as r`, [user.id, now])).rows[0]!.r,
    );
    const admitted = rounds.reduce<number>((a, b) => a + b, 0);
    expect(status.day.used).toBeCloseTo(admitted * 0.2, 10);
    expect(status.day.used).toBeLessThanOrEqual(1);
    expect(admitted).toBeGreaterThanOrEqual(3); // at least the 3 that fit at their worst case
  });
});

describe('record_usage', () => {
  it('records once when the same idempotency key races', async () => {
    const user = await users.create();
    const key = `race-${randomUUID()}`;
    const now = '2026-05-04T09:00:00Z';
    const rows = await Promise.all(
      Array.from({ length: 12 }, () =>
        asService<{ id: string; total_cost: string }>(
          db,
          `select id, total_cost from public.record_usage($1, 'gpt-4o-mini', 1000, 500, p_idempotency_key => $2, p_now => $3)`,
          [user.id, key, now],
        ).then((q) => q.rows[0]!),
      ),
    );
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
    const { rows: counts } = await db.query(
      `select (select count(*)::int from public.usage_logs where user_id = $1) as logs,
              (select requests_count from public.daily_usage where user_id = $1) as requests,
              (select day_spent::text from private.credit_balances where user_id = $1) as spent`,
      [user.id],
    );
    // 1000 x 0.15 + 500 x 0.60 per million = 0.00045
    expect(counts[0]).toEqual({ logs: 1, requests: 1, spent: '0.0004500000' });
  });

  it('loses no increment when one user records many calls at once', async () => {
    const user = await users.create();
    const now = '2026-05-04T09:00:00Z';
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        asService(db, `select public.record_usage($1, 'gemini-2.0-flash', $2, 100, p_now => $3)`, [user.id, 1000 + i, now]),
      ),
    );
    const { rows } = await db.query(
      `select requests_count, input_tokens::int, total_cost::text from public.daily_usage where user_id = $1`,
      [user.id],
    );
    // sum(1000..1029) = 30435 input tokens x 0.10 + 3000 output x 0.40 per million
    expect(rows).toEqual([{ requests_count: 30, input_tokens: 30435, total_cost: '0.0042435000' }]);
  });

  it('bumps a conversation exactly under parallel calls, and once per idempotency key', async () => {
    const user = await users.create();
    const conv = randomUUID();
    await db.query(`insert into public.conversations (id, user_id, title) values ($1, $2, 'usage race')`, [conv, user.id]);
    const key = `conv-${randomUUID()}`;
    await Promise.all([
      // 20 distinct calls: 1000 in + 200 out each on gpt-4o-mini = 0.00027
      ...Array.from({ length: 20 }, () =>
        asService(db, `select public.record_usage($1, 'gpt-4o-mini', 1000, 200, p_conversation_id => $2)`, [user.id, conv]),
      ),
      // and one call retried 8 times at once
      ...Array.from({ length: 8 }, () =>
        asService(db, `select public.record_usage($1, 'gpt-4o-mini', 1000, 200, p_conversation_id => $2, p_idempotency_key => $3)`, [
          user.id,
          conv,
          key,
        ]),
      ),
    ]);
    const { rows } = await db.query(
      `select total_input_tokens::int as input, total_output_tokens::int as output, total_cost::text as cost
         from public.conversations where id = $1`,
      [conv],
    );
    expect(rows[0]).toEqual({ input: 21000, output: 4200, cost: '0.005670' });
  });

  it('agrees with its zod schema on what is valid', async () => {
    const user = await users.create();
    const cases: Array<Record<string, unknown>> = [
      { p_input_tokens: 10, p_output_tokens: 10 },
      { p_input_tokens: -1, p_output_tokens: 10 },
      { p_input_tokens: 10, p_output_tokens: 10, p_cached_input_tokens: 11 },
      { p_input_tokens: 10, p_output_tokens: 10, p_reasoning_tokens: 10 },
      { p_input_tokens: 10, p_output_tokens: 10, p_reasoning_tokens: 11 },
      { p_input_tokens: 10, p_output_tokens: 10, p_agent_type: 'Bad Agent' },
      { p_input_tokens: 10, p_output_tokens: 10, p_agent_type: 'python_agent' },
    ];
    for (const c of cases) {
      const args = { p_user_id: user.id, p_model: 'gpt-4o-mini', ...c };
      const { sql, params } = namedCall('public.record_usage', args);
      await expectZodAgreesWithSql(recordUsageArgs, args, asService(db, sql, params), JSON.stringify(c));
    }
  });
});

describe('plans, features and reads parse with the contract', () => {
  it('get_user_plan, require_feature, summaries', async () => {
    const user = await users.create();
    const plan = userPlan.parse((await asUser<{ r: unknown }>(db, user, `select public.get_user_plan() as r`)).rows[0]!.r);
    expect(plan).toMatchObject({ plan_name: 'basic', is_default_plan: true, max_credits_per_day: 1 });

    const err = await asUser(db, user, `select public.require_feature('ai_chat')`).catch((e) => e);
    expect(err.code).toBe(UsageSqlState.featureGate);
    expect(featureGateDetail.parse(JSON.parse(err.detail))).toEqual({
      feature: 'ai_chat',
      required_plan: 'pro',
      current_plan: 'basic',
    });

    await asService(db, `select public.record_usage($1, 'gpt-4o', 1000, 1000, p_agent_type => 'python_agent')`, [user.id]);
    const summary = usageSummary.parse((await asUser(db, user, `select * from public.get_current_user_usage_summary()`)).rows[0]!);
    expect(summary.total_calls).toBe(1);
    expect(summary.total_cost).toBe(0.0125);
    expect(summary.agent_breakdown.python_agent?.calls).toBe(1);
    const series = dailyUsageSeries.parse((await asUser<{ r: unknown }>(db, user, `select public.get_current_user_daily_usage() as r`)).rows[0]!.r);
    expect(series).toHaveLength(31);
    expect(series.reduce((a, d) => a + d.requests, 0)).toBe(1);
    const credits = creditStatus.parse((await asUser<{ r: unknown }>(db, user, `select public.check_credits() as r`)).rows[0]!.r);
    expect(credits.day.used).toBe(0.0125);
  });
});
