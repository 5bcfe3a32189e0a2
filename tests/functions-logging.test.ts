// Request logging of the edge functions (_shared/request-log.ts) and the
// health history (_shared/health-log.ts, record_health_check's once-a-minute
// guard): the wrapper in process with recording writers, the writers against
// the real database, and the functions runtime behind the gateway.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HttpError, json, serve } from '../supabase/functions/_shared/errors.ts';
import { createHealthLog, healthLogRows, type HealthLogRow } from '../supabase/functions/_shared/health-log.ts';
import {
  correlationHeader, rpcWriter, withRequestLog, type ErrorLogRow, type RequestLogRow, type RequestLogWriter,
} from '../supabase/functions/_shared/request-log.ts';
import { createWebhookHandler } from '../supabase/functions/webhook/handler.ts';
import { apiUrl, functionEnv, keys, serviceClient } from './support/api.ts';
import { testDatabase } from './support/db.ts';

const { db } = testDatabase(4);

/** A writer that keeps what it is given. */
function recordingWriter() {
  const requests: RequestLogRow[] = [];
  const errors: ErrorLogRow[] = [];
  const writer: RequestLogWriter = {
    request: async (row) => { requests.push(row); },
    error: async (row) => { errors.push(row); },
  };
  return { requests, errors, writer };
}

/** Background work kept, so a test can wait for it. */
function backgroundQueue() {
  const work: Promise<unknown>[] = [];
  return { background: (p: Promise<unknown>) => { work.push(p); }, settle: () => Promise.all(work), work };
}

/** Polls `query` until `done(rows)` holds (background writes land after the answer); returns the rows. */
async function eventually<T>(query: () => Promise<T[]>, done: (rows: T[]) => boolean = (r) => r.length > 0): Promise<T[]> {
  for (let i = 0; i < 200; i++) {
    const rows = await query();
    if (done(rows)) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the rows never appeared');
}

const requestRows = (correlationId: string) => async () =>
  (await db.query(`select * from public.api_request_logs where correlation_id = $1`, [correlationId])).rows;
const errorRows = (correlationId: string) => async () =>
  (await db.query(`select * from public.error_logs where correlation_id = $1`, [correlationId])).rows;

describe('withRequestLog (in process)', () => {
  it('records method, path, status, duration, sizes, client and correlation id, after the answer', async () => {
    const { requests, errors, writer } = recordingWriter();
    const queue = backgroundQueue();
    const ticks = [1000, 1042];
    const handler = withRequestLog(serve(async () => json({ ok: true }, 201)), {
      fn: 'demo', writer, background: queue.background, clock: () => ticks.shift() ?? 2000,
    });
    const id = randomUUID();
    const res = await handler(new Request('http://local/demo/sub', {
      method: 'POST', body: 'abcd',
      headers: { 'content-length': '4', [correlationHeader]: id, 'x-forwarded-for': '203.0.113.7, 10.0.0.1', 'user-agent': 'vitest' },
    }));
    expect(res.status).toBe(201);
    expect(res.headers.get(correlationHeader)).toBe(id);
    expect(await res.text()).toBe('{"ok":true}');
    await queue.settle();
    expect(requests).toEqual([{
      method: 'POST', path: '/functions/v1/demo/sub', status: 201, durationMs: 42, requestSize: 4, responseSize: 11,
      ip: '203.0.113.7', userAgent: 'vitest', correlationId: id,
    }]);
    expect(errors).toEqual([]);
  });

  it('takes X-Request-Id when there is no correlation id, and makes one when neither is a UUID', async () => {
    const { requests, writer } = recordingWriter();
    const queue = backgroundQueue();
    const handler = withRequestLog(serve(async () => json({})), { fn: 'demo', writer, background: queue.background });
    const id = randomUUID();
    const a = await handler(new Request('http://local/demo', { headers: { 'x-request-id': id } }));
    const b = await handler(new Request('http://local/demo', { headers: { [correlationHeader]: 'not-a-uuid', 'x-forwarded-for': 'junk' } }));
    await queue.settle();
    expect(a.headers.get(correlationHeader)).toBe(id);
    expect(b.headers.get(correlationHeader)).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get(correlationHeader)).not.toBe('not-a-uuid');
    expect(requests.map((r) => [r.correlationId, r.ip, r.path])).toEqual([
      [id, null, '/functions/v1/demo'], [b.headers.get(correlationHeader), null, '/functions/v1/demo'],
    ]);
  });

  it('a 5xx answer is also an error row; an uncaught error is a critical one with the error behind it', async () => {
    const { requests, errors, writer } = recordingWriter();
    const queue = backgroundQueue();
    let fail: () => never = () => { throw new HttpError(503, 'unavailable', 'down for maintenance'); };
    const handler = withRequestLog(serve(async () => fail()), { fn: 'demo', writer, background: queue.background });

    const answered = await handler(new Request('http://local/demo'));
    fail = () => { throw new TypeError('boom'); };
    const crashed = await handler(new Request('http://local/demo'));
    expect([answered.status, crashed.status]).toEqual([503, 500]);
    expect(await crashed.json()).toEqual({ code: 'internal_error', message: 'internal error', details: null });
    await queue.settle();

    expect(requests.map((r) => r.status)).toEqual([503, 500]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      severity: 'error', message: 'demo answered 503 unavailable', method: 'GET', path: '/functions/v1/demo',
      correlationId: answered.headers.get(correlationHeader),
      details: { function: 'demo', status: 503, code: 'unavailable', answer: 'down for maintenance' },
    });
    expect(errors[1]).toMatchObject({
      severity: 'critical', message: 'demo: uncaught TypeError: boom', correlationId: crashed.headers.get(correlationHeader),
      details: { status: 500, code: 'internal_error', error: { name: 'TypeError', message: 'boom' } },
    });
  });

  it('a handler that throws past serve() is answered 500 without internals, and logged as uncaught', async () => {
    const { errors, writer } = recordingWriter();
    const queue = backgroundQueue();
    const handler = withRequestLog(async () => { throw new RangeError('raw'); }, { fn: 'demo', writer, background: queue.background });
    const res = await handler(new Request('http://local/demo'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: 'internal_error', message: 'internal error', details: null });
    await queue.settle();
    expect(errors.map((e) => [e.severity, e.message])).toEqual([['critical', 'demo: uncaught RangeError: raw']]);
  });

  it('a failing or hanging writer changes nothing in the answer', async () => {
    const warnings: string[] = [];
    const failing: RequestLogWriter = { request: async () => { throw new Error('db down'); }, error: () => new Promise(() => undefined) };
    const queue = backgroundQueue();
    const inner = serve(async () => json({ fine: true }, 200, { 'X-Extra': '1' }));
    const handler = withRequestLog(inner, { fn: 'demo', writer: failing, background: queue.background, warn: (m) => warnings.push(m) });
    const res = await handler(new Request('http://local/demo'));
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Extra')).toBe('1');
    expect(await res.json()).toEqual({ fine: true });
    await queue.settle();
    expect(warnings).toEqual(['demo: request log failed: db down']);

    // a writer that never answers: the answer is there all the same, its write still pending
    const hanging: RequestLogWriter = { request: () => new Promise(() => undefined), error: () => new Promise(() => undefined) };
    const pending = backgroundQueue();
    const stuck = withRequestLog(inner, { fn: 'demo', writer: hanging, background: pending.background });
    const answer = await stuck(new Request('http://local/demo'));
    expect(await answer.json()).toEqual({ fine: true });
    expect(pending.work).toHaveLength(1);
  });

  it('drops new writes while too many are pending, and says so', async () => {
    const warnings: string[] = [];
    const hanging: RequestLogWriter = { request: () => new Promise(() => undefined), error: () => new Promise(() => undefined) };
    const queue = backgroundQueue();
    const handler = withRequestLog(serve(async () => json({})), {
      fn: 'demo', writer: hanging, background: queue.background, maxPending: 2, warn: (m) => warnings.push(m),
    });
    for (let i = 0; i < 3; i++) expect((await handler(new Request('http://local/demo'))).status).toBe(200);
    expect(queue.work).toHaveLength(2);
    expect(warnings).toEqual(['demo: request log dropped (2 writes pending)']);
  });

  it('samples only the statuses it is told to, one in sampleEvery; everything else is logged', async () => {
    const { requests, writer } = recordingWriter();
    const queue = backgroundQueue();
    let status = 200;
    const handler = withRequestLog(serve(async () => json({}, status)), {
      fn: 'rate-limit', writer, background: queue.background, sampled: [200, 429], sampleEvery: 3,
    });
    for (let i = 0; i < 6; i++) await handler(new Request('http://local/rate-limit', { method: 'POST' }));
    status = 400;
    for (let i = 0; i < 2; i++) await handler(new Request('http://local/rate-limit', { method: 'POST' }));
    await queue.settle();
    expect(requests.map((r) => r.status)).toEqual([200, 200, 400, 400]);
  });

  it('answers a preflight as before, and logs it', async () => {
    const { requests, writer } = recordingWriter();
    const queue = backgroundQueue();
    const handler = withRequestLog(serve(async () => json({})), { fn: 'demo', writer, background: queue.background });
    const res = await handler(new Request('http://local/demo', { method: 'OPTIONS' }));
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    await queue.settle();
    expect(requests.map((r) => [r.method, r.status, r.responseSize])).toEqual([['OPTIONS', 200, 2]]);
  });
});

describe('the writers against the database', () => {
  it('a forced 500 (the webhook without its secret) leaves a request row and an error row under one correlation id', async () => {
    const queue = backgroundQueue();
    const handler = withRequestLog(createWebhookHandler(functionEnv({ WHOP_WEBHOOK_SECRET: '' })), {
      fn: 'webhook', writer: rpcWriter(serviceClient()), background: queue.background,
    });
    const id = randomUUID();
    const res = await handler(new Request('http://local/webhook', { method: 'POST', body: '{}', headers: { [correlationHeader]: id } }));
    expect(res.status).toBe(500);
    expect((await res.json()).code).toBe('not_configured');
    await queue.settle();

    const [request] = await requestRows(id)();
    expect(request).toMatchObject({ method: 'POST', path: '/functions/v1/webhook', status_code: 500, user_id: null });
    const errors = await errorRows(id)();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      error_type: 'api', error_category: 'edge_function', severity: 'error', request_path: '/functions/v1/webhook',
      request_method: 'POST', error_message: 'webhook answered 500 not_configured', resolved: false,
    });
    expect(errors[0].error_details).toMatchObject({ function: 'webhook', status: 500, code: 'not_configured' });
  });

  it('an uncaught error is stored with its message, not in the answer', async () => {
    const queue = backgroundQueue();
    const marker = `boom-${randomUUID()}`;
    const handler = withRequestLog(serve(async () => { throw new Error(marker); }), {
      fn: 'demo', writer: rpcWriter(serviceClient()), background: queue.background,
    });
    const res = await handler(new Request('http://local/demo', { method: 'POST' }));
    const id = res.headers.get(correlationHeader)!;
    expect(await res.text()).not.toContain(marker);
    await queue.settle();
    const [error] = await errorRows(id)();
    expect(error).toMatchObject({ severity: 'critical', error_message: `demo: uncaught Error: ${marker}` });
    expect(error.error_details.error).toMatchObject({ name: 'Error', message: marker });
  });
});

describe('health history', () => {
  const report = {
    database: { status: 'ok' as const, latency_ms: 3.6, version: '15' },
    queue: { status: 'degraded' as const, depth: 900 },
    cache: { status: 'error' as const, message: 'unreachable' },
  };

  it('maps each check to a row in the table\'s vocabulary', () => {
    expect(healthLogRows(report)).toEqual([
      { component: 'database', status: 'healthy', latencyMs: 4, details: { version: '15' } },
      { component: 'queue', status: 'degraded', latencyMs: null, details: { depth: 900 } },
      { component: 'cache', status: 'unhealthy', latencyMs: null, details: { message: 'unreachable' } },
    ]);
  });

  it('an instance writes at most once a minute by its clock', async () => {
    const written: HealthLogRow[] = [];
    const queue = backgroundQueue();
    let now = 1_000_000;
    const record = createHealthLog({ write: async (row) => { written.push(row); }, background: queue.background, now: () => now });
    record(report);
    now += 59_999;
    record(report);
    await queue.settle();
    expect(written).toHaveLength(3);
    now += 1;
    record(report);
    await queue.settle();
    expect(written).toHaveLength(6);
  });

  it('record_health_check writes one row per component a minute, however many callers race', async () => {
    const service = serviceClient();
    const component = `test-${randomUUID().slice(0, 8)}`;
    const call = () => service.rpc('record_health_check', { p_component: component, p_status: 'healthy', p_latency_ms: 5 });
    const results = await Promise.all(Array.from({ length: 6 }, call));
    expect(results.map((r) => r.error)).toEqual(Array(6).fill(null));
    expect(results.filter((r) => r.data !== null)).toHaveLength(1);
    const count = async () => (await db.query(`select count(*)::int as n from public.system_health_logs where component = $1`, [component])).rows[0].n;
    expect(await count()).toBe(1);

    // a minute later (the row moved back in time) it writes again
    await db.query(`update public.system_health_logs set checked_at = checked_at - interval '61 seconds' where component = $1`, [component]);
    const again = await call();
    expect(again.error).toBeNull();
    expect(again.data).toMatch(/^[0-9a-f-]{36}$/);
    expect(await count()).toBe(2);
    // bad input is refused before the guard, as before
    const bad = await service.rpc('record_health_check', { p_component: component, p_status: 'fine' });
    expect(bad.error?.code).toBe('22023');
  });
});

describe('through the gateway', () => {
  const call = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    fetch(`${apiUrl}/functions/v1/${path}`, { ...init, headers: { apikey: keys.publishableKey, ...init.headers } });

  it('a health request leaves its api_request_logs row: method, path, status, duration, response size', async () => {
    const id = randomUUID();
    const res = await call('health', { headers: { [correlationHeader]: id, 'user-agent': 'functions-logging-test' } });
    const body = await res.text();
    expect(res.headers.get(correlationHeader)).toBe(id);
    const [row] = await eventually(requestRows(id));
    expect(row).toMatchObject({
      method: 'GET', path: '/functions/v1/health', status_code: res.status, response_size: Buffer.byteLength(body),
      user_agent: 'functions-logging-test', correlation_id: id,
    });
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('rate-limit, webhook and worker log their refusals (never sampled out)', async () => {
    const ids = { 'rate-limit': randomUUID(), webhook: randomUUID(), worker: randomUUID() };
    for (const [fn, id] of Object.entries(ids)) {
      const res = await call(fn, { method: 'POST', body: '{}', headers: { [correlationHeader]: id, 'content-type': 'application/json' } });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
    for (const [fn, id] of Object.entries(ids)) {
      const [row] = await eventually(requestRows(id));
      expect(row).toMatchObject({ method: 'POST', path: `/functions/v1/${fn}`, status_code: 401, request_size: 2 });
    }
  });

  it('two health calls within a minute leave one system_health_logs row per check', async () => {
    const first = await call('health');
    const second = await call('health');
    const checks = Object.keys((await second.json()).checks as Record<string, unknown>);
    await first.body?.cancel();
    expect(checks).toContain('database');
    const recent = async () => (await db.query(
      `select component, count(*)::int as n from public.system_health_logs
        where checked_at > now() - interval '1 minute' and component = any($1) group by component`, [checks])).rows;
    const rows = await eventually(recent, (r) => r.length === checks.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });
});
