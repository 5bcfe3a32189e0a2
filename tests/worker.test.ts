// The background worker (supabase/functions/worker) end to end with real
// HTTP: jobs enqueued in SQL, the worker's handler run in-process with its
// providers pointed at fake Resend and WhatsApp servers on loopback
// (tests/support/fake-providers.ts), the provider requests and the jobs'
// rows checked after. One test also runs the deployed shape: the worker in
// Deno behind the gateway's functions runtime.
//
// Every run is limited to this file's own queue (and to the channels a test
// names): other test files share the database and its queues.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHandler } from '../supabase/functions/worker/handler.ts';
import { buildRegistry, registry } from '../supabase/functions/worker/handlers/index.ts';
import { anonClient, functionEnv, keys, serviceClient, tokenFor } from './support/api.ts';
import { asService, testDatabase } from './support/db.ts';
import { startFakeResend, startFakeWhatsApp, type FakeResend, type FakeWhatsApp } from './support/fake-providers.ts';

const { db, users } = testDatabase(8);
const tag = randomUUID().slice(0, 8);
const queue = `wk-${tag}`;
const otherQueue = `wk-${tag}-deno`;
let resend: FakeResend;
let wa: FakeWhatsApp;

const providerEnv = () => ({
  RESEND_API_KEY: 're_test_key',
  RESEND_API_URL: resend.url,
  EMAIL_FROM: 'App <noreply@example.com>',
  WHATSAPP_ACCESS_TOKEN: 'wa-test-token',
  WHATSAPP_PHONE_NUMBER_ID: '1098765432',
  WHATSAPP_API_URL: wa.url,
});

beforeAll(async () => {
  [resend, wa] = await Promise.all([startFakeResend(), startFakeWhatsApp()]);
  // A minute's backoff, so that a retry is never due within the run that
  // failed it however slow the machine; makeDue() moves a retry's time to now.
  for (const q of [queue, otherQueue]) {
    await asService(db, `select public.create_queue($1, null, 3, 60, 60, 60)`, [q]);
  }
});

afterAll(async () => {
  await db.query('delete from private.jobs where queue_name = any($1)', [[queue, otherQueue]]);
  await db.query('delete from private.job_queues where name = any($1)', [[queue, otherQueue]]);
  await Promise.all([resend?.close(), wa?.close()]);
});

interface Job {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  errors: Array<{ error: string }>;
  result: any;
  due: boolean;
  backed_off: boolean;
}

async function enqueue(type: string, payload: unknown, opts: { maxAttempts?: number; queueName?: string } = {}): Promise<string> {
  const { rows } = await asService<{ id: string }>(
    db,
    'select id from public.enqueue_job($1, $2::jsonb, $3, p_max_attempts => $4)',
    [opts.queueName ?? queue, JSON.stringify(payload), type, opts.maxAttempts ?? null],
  );
  return rows[0]!.id;
}

async function job(id: string): Promise<Job> {
  const { rows } = await db.query<Job>(
    `select id, status, attempts, last_error, errors, result, run_at <= now() as due, run_at > updated_at as backed_off
       from private.jobs where id = $1`,
    [id],
  );
  return rows[0]!;
}

/** Makes a job queued for a retry due now, as if its backoff had passed. */
async function makeDue(id: string) {
  await db.query(`update private.jobs set run_at = now() where id = $1 and status = 'queued'`, [id]);
  expect((await job(id)).due).toBe(true);
}

type Worker = ReturnType<typeof createWorkerHandler>;
const workerWith = (vars: Record<string, string | undefined>, deps: Parameters<typeof createWorkerHandler>[1] = {}): Worker =>
  createWorkerHandler(functionEnv(vars), { log: () => undefined, ...deps });

const request = (body: unknown, headers: Record<string, string> = { apikey: keys.secretKey }) =>
  new Request('http://local/worker', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** One run over this file's queue (no notification channels unless given). */
async function run(worker: Worker, body: Record<string, unknown> = {}) {
  const res = await worker(request({ queues: [queue], channels: [], ...body }));
  expect(res.status).toBe(200);
  return res.json();
}

const emailsTo = (to: string) => resend.delivered.filter((d) => JSON.stringify(d.body.to) === JSON.stringify(to));
const requestsWithKey = (key: string) => resend.requests.filter((r) => r.headers['idempotency-key'] === key);

describe('worker: who may run it', () => {
  it('answers 401 to anyone but a service, and 405 to anything but POST', async () => {
    const worker = workerWith(providerEnv());
    const user = await users.create();
    expect((await worker(request({}, {}))).status).toBe(401);
    expect((await worker(request({}, { apikey: keys.publishableKey }))).status).toBe(401);
    expect((await worker(request({}, { authorization: `Bearer ${await tokenFor(user)}` }))).status).toBe(401);
    expect((await worker(new Request('http://local/worker', { headers: { apikey: keys.secretKey } }))).status).toBe(405);
    const bad = await worker(request({ budget_ms: 'soon' }));
    expect(bad.status).toBe(400);
  });
});

describe('worker: job types end to end', () => {
  it('email/send: one Resend request with the key, sender and body; the job completed with the email id', async () => {
    const to = `to-${tag}@example.com`;
    const id = await enqueue('email/send', { to, subject: 'Welcome', text: 'Hello there' });
    const summary = await run(workerWith(providerEnv()));
    expect(summary.jobs).toMatchObject({ completed: 1, retrying: 0, dead: 0 });

    const reqs = requestsWithKey(`job-${id}`);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]).toMatchObject({ method: 'POST', path: '/emails' });
    expect(reqs[0]!.headers.authorization).toBe('Bearer re_test_key');
    expect(reqs[0]!.body).toEqual({ to, subject: 'Welcome', text: 'Hello there', from: 'App <noreply@example.com>' });
    const done = await job(id);
    expect(done).toMatchObject({ status: 'completed', attempts: 1 });
    expect(done.result).toEqual({ provider_message_id: emailsTo(to)[0]!.id });
  });

  it('whatsapp/message: the Cloud API request for text and template messages; the wamid stored as the result', async () => {
    const text = await enqueue('whatsapp/message', {
      recipient_phone: '+250788123456', message_type: 'text', message_payload: { text: `hi ${tag}` },
    });
    const template = await enqueue('whatsapp/message', {
      recipient_phone: '+250788123457', message_type: 'template', message_payload: { name: 'welcome', language: 'fr' },
    });
    const summary = await run(workerWith(providerEnv()));
    expect(summary.jobs.completed).toBe(2);

    const textReq = wa.requests.find((r) => r.body?.text?.body === `hi ${tag}`)!;
    expect(textReq.path).toBe('/1098765432/messages');
    expect(textReq.headers.authorization).toBe('Bearer wa-test-token');
    expect(textReq.body).toEqual({
      messaging_product: 'whatsapp', recipient_type: 'individual', to: '250788123456', type: 'text', text: { body: `hi ${tag}` },
    });
    const templateReq = wa.requests.find((r) => r.body?.to === '250788123457')!;
    expect(templateReq.body).toMatchObject({ type: 'template', template: { name: 'welcome', language: { code: 'fr' } } });
    for (const id of [text, template]) {
      const done = await job(id);
      expect(done.status).toBe('completed');
      expect(done.result.provider_message_id).toMatch(/^wamid\./);
    }
  });

  it('membership/updated applies the plan; analytics/daily.aggregate refreshes the daily metrics', async () => {
    const user = await users.create();
    const membership = await enqueue('membership/updated', { user_id: user.id, plan: 'pro' });
    const analytics = await enqueue('analytics/daily.aggregate', {});
    await run(workerWith(providerEnv()));
    expect(await job(membership)).toMatchObject({ status: 'completed', result: { plan: 'pro', active: true } });
    const { rows } = await db.query('select plan_name, active from public.user_plans where user_id = $1', [user.id]);
    expect(rows).toEqual([{ plan_name: 'pro', active: true }]);
    const rollup = await job(analytics);
    expect(rollup.status).toBe('completed');
    expect(typeof rollup.result.rows).toBe('number');
  });

  it('a payload its schema refuses, an unknown plan and an unknown job type fail at once, naming why; nothing is sent', async () => {
    const before = resend.requests.length;
    const badPayload = await enqueue('email/send', { to: 'not-an-address', subject: 'x' });
    const unknownPlan = await enqueue('membership/updated', { user_id: randomUUID(), plan: 'platinum' });
    const unknownType = await enqueue(`no-such/type-${tag}`, {});
    await run(workerWith(providerEnv()));

    const bad = await job(badPayload);
    expect(bad).toMatchObject({ status: 'dead', attempts: 1 });
    expect(bad.last_error).toMatch(/^invalid_payload: invalid payload for email\/send: .*to/);
    expect(bad.last_error).toContain('html or text is required');
    const plan = await job(unknownPlan);
    expect(plan).toMatchObject({ status: 'dead', attempts: 1 });
    expect(plan.last_error).toContain('unknown plan "platinum"');
    const unknown = await job(unknownType);
    expect(unknown).toMatchObject({ status: 'dead', attempts: 1 });
    expect(unknown.last_error).toBe(`no_handler: no handler for job type no-such/type-${tag}: the worker does not know it`);
    expect(resend.requests.length).toBe(before);
  });
});

describe('worker: failures, retries and dead letters', () => {
  it('a provider 500 is retried after backoff with the same idempotency key; the email is delivered once', async () => {
    const to = `retry-${tag}@example.com`;
    const id = await enqueue('email/send', { to, subject: 'Retry', html: '<p>x</p>' });
    resend.script({ status: 500 });
    const first = await run(workerWith(providerEnv()));
    expect(first.jobs).toMatchObject({ retrying: 1, completed: 0 });
    const failed = await job(id);
    expect(failed).toMatchObject({ status: 'queued', attempts: 1, backed_off: true });
    expect(failed.last_error).toMatch(/^provider_unavailable: Resend answered 500/);

    await makeDue(id);
    await run(workerWith(providerEnv()));
    expect(await job(id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(requestsWithKey(`job-${id}`)).toHaveLength(2);
    expect(emailsTo(to)).toHaveLength(1);
  });

  it('a provider 4xx fails the job without retrying', async () => {
    const id = await enqueue('email/send', { to: `reject-${tag}@example.com`, subject: 'No', text: 'x' });
    resend.script({ status: 422, body: { message: 'invalid from address' } });
    await run(workerWith(providerEnv()));
    const dead = await job(id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 1 });
    expect(dead.last_error).toMatch(/^provider_rejected: Resend answered 422: .*invalid from address/);
    expect(requestsWithKey(`job-${id}`)).toHaveLength(1);
  });

  it('a job failing on every attempt ends in the dead letters after its max attempts, each failure recorded', async () => {
    const id = await enqueue('email/send', { to: `down-${tag}@example.com`, subject: 'Down', text: 'x' }, { maxAttempts: 2 });
    resend.always({ status: 503 });
    try {
      await run(workerWith(providerEnv()));
      expect(await job(id)).toMatchObject({ status: 'queued', attempts: 1 });
      await makeDue(id);
      await run(workerWith(providerEnv()));
    } finally {
      resend.always(null);
    }
    const dead = await job(id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2 });
    expect(dead.errors.map((e) => e.error)).toEqual([
      expect.stringMatching(/Resend answered 503/), expect.stringMatching(/Resend answered 503/),
    ]);
  });

  it('an unconfigured provider fails the job at once naming the variable, visible in list_jobs', async () => {
    const email = await enqueue('email/send', { to: `nocfg-${tag}@example.com`, subject: 'x', text: 'x' });
    const message = await enqueue('whatsapp/message', {
      recipient_phone: '+250788123458', message_type: 'text', message_payload: { text: 'x' },
    });
    const { WHATSAPP_PHONE_NUMBER_ID: _w, RESEND_API_KEY: _r, ...rest } = providerEnv();
    await run(workerWith(rest));
    const listed = await serviceClient().rpc('list_jobs', { p_queue: queue, p_status: 'dead', p_limit: 500 });
    expect(listed.error).toBeNull();
    const byId = new Map((listed.data as Array<{ id: number; last_error: string; attempts: number }>).map((j) => [String(j.id), j]));
    expect(byId.get(email)).toMatchObject({
      attempts: 1, last_error: 'not_configured: RESEND_API_KEY is not set: this provider is not configured',
    });
    expect(byId.get(message)?.last_error).toBe('not_configured: WHATSAPP_PHONE_NUMBER_ID is not set: this provider is not configured');
  });
});

describe('worker: leases, the time budget and parallel workers', () => {
  it('a lease shorter than the provider\'s answer: the request is abandoned before the lease ends, nobody else sends meanwhile, the retry delivers once', async () => {
    const to = `lease-${tag}@example.com`;
    const id = await enqueue('email/send', { to, subject: 'Lease', text: 'x' });
    resend.script({ delayMs: 6000 });
    // Two workers at once with a 3 s lease: one takes the job, the other finds it leased.
    const [a, b] = await Promise.all([
      run(workerWith(providerEnv()), { lease_seconds: 3, batch: 1 }),
      run(workerWith(providerEnv()), { lease_seconds: 3, batch: 1 }),
    ]);
    expect(a.jobs.retrying + b.jobs.retrying).toBe(1); // the holder timed out and handed it back itself
    expect(a.jobs.lost_lease + b.jobs.lost_lease).toBe(0); // within its lease
    expect(requestsWithKey(`job-${id}`)).toHaveLength(1);
    const retried = await job(id);
    expect(retried).toMatchObject({ status: 'queued', attempts: 1 });
    expect(retried.last_error).toContain('timed out');

    await makeDue(id);
    await run(workerWith(providerEnv()));
    expect(await job(id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(requestsWithKey(`job-${id}`)).toHaveLength(2);
    expect(emailsTo(to)).toHaveLength(1); // the same Idempotency-Key: Resend delivers once
  });

  it('stops claiming when the time budget is spent: the slow request is abandoned, the rest stays queued', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await enqueue('email/send', { to: `budget-${i}-${tag}@example.com`, subject: 'B', text: 'x' }));
    resend.always({ delayMs: 8000 });
    let summary;
    const t0 = Date.now();
    try {
      summary = await run(workerWith(providerEnv()), { budget_ms: 1000, batch: 1 });
    } finally {
      resend.always(null);
    }
    expect(Date.now() - t0).toBeLessThan(8000); // it did not wait for the provider
    expect(summary.stopped).toBe('budget');
    const jobs = await Promise.all(ids.map(job));
    expect(jobs[0]).toMatchObject({ status: 'queued', attempts: 1 });
    expect(jobs[0]!.last_error).toMatch(/timed out|no time left/);
    expect(jobs.slice(1).map((j) => [j.status, j.attempts])).toEqual([['queued', 0], ['queued', 0]]);
    // done by a later run
    for (const id of ids) await makeDue(id);
    await run(workerWith(providerEnv()));
    expect((await Promise.all(ids.map(job))).map((j) => j.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('two workers in parallel process every job exactly once', async () => {
    const ids = [];
    for (let i = 0; i < 24; i++) ids.push(await enqueue('email/send', { to: `par-${i}-${tag}@example.com`, subject: 'P', text: 'x' }));
    const summaries = await Promise.all([0, 1].map(() => run(workerWith(providerEnv()), { batch: 3 })));
    expect(summaries.reduce((n, s) => n + s.jobs.completed, 0)).toBe(24);
    for (const id of ids) expect(requestsWithKey(`job-${id}`)).toHaveLength(1);
    expect((await Promise.all(ids.map(job))).every((j) => j.status === 'completed' && j.attempts === 1)).toBe(true);
  });
});

describe('worker: notifications', () => {
  async function notify(userId: string, channel: string, body: string, data: Record<string, unknown> = {}) {
    const { rows } = await asService<{ id: string }>(db,
      `select id from public.create_notification($1, $2, $3, 'Title', $4::jsonb)`, [userId, channel, body, JSON.stringify(data)]);
    return rows[0]!.id;
  }
  const notification = async (id: string) =>
    (await db.query('select status, attempts, last_error, sent_at from public.notifications where id = $1', [id])).rows[0];

  it('email goes to the profile address through Resend with the notification key; whatsapp to data.phone; both sent', async () => {
    const user = await users.create();
    const mail = await notify(user.id, 'email', `mail ${tag}`);
    const text = await notify(user.id, 'whatsapp', `wa ${tag}`, { phone: '+250788123459' });
    await run(workerWith(providerEnv()), { queues: [], channels: ['email', 'whatsapp'] });

    const [req] = requestsWithKey(`notification-${mail}`);
    expect(req!.body).toMatchObject({ to: user.email, subject: 'Title', text: `mail ${tag}` });
    expect(await notification(mail)).toMatchObject({ status: 'sent', attempts: 1 });
    const waReq = wa.requests.find((r) => r.body?.to === '250788123459')!;
    expect(waReq.body.text.body).toBe(`Title\n\nwa ${tag}`);
    expect(await notification(text)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('a whatsapp notification without a phone, or a channel with no sender, fails without retrying', async () => {
    const user = await users.create();
    const noPhone = await notify(user.id, 'whatsapp', 'x');
    await run(workerWith(providerEnv()), { queues: [], channels: ['whatsapp'] });
    expect(await notification(noPhone)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await notification(noPhone)).last_error).toContain('needs data.phone');

    const noSender = await notify(user.id, 'whatsapp', 'y', { phone: '+250788123460' });
    const withoutWhatsApp = buildRegistry([...registry.jobs.values()], [...registry.channels.values()].filter((s) => s.channel !== 'whatsapp'));
    await run(workerWith(providerEnv(), { registry: withoutWhatsApp }), { queues: [], channels: ['whatsapp'] });
    expect(await notification(noSender)).toMatchObject({ status: 'failed', last_error: 'no_handler: no sender for channel whatsapp' });
  });
});

describe('worker: deployed shape and observability', () => {
  it('runs in Deno behind the functions runtime for a service only; an unconfigured provider names its variable', async () => {
    const anon = await anonClient().functions.invoke('worker', { body: {} });
    expect(anon.response?.status).toBe(401);
    const id = await enqueue('email/send', { to: `deno-${tag}@example.com`, subject: 'x', text: 'x' }, { queueName: otherQueue });
    const { data, error } = await serviceClient().functions.invoke('worker', { body: { queues: [otherQueue], channels: [] } });
    expect(error).toBeNull();
    expect(data.jobs).toMatchObject({ dead: 1 });
    // the runtime's environment has no RESEND_API_KEY
    expect((await job(id)).last_error).toBe('not_configured: RESEND_API_KEY is not set: this provider is not configured');
  });

  it('records each run as the worker.run metric; the health check shows the last run and the oldest due job\'s age', async () => {
    const summary = await run(workerWith(providerEnv()));
    const { rows } = await db.query(
      `select value, tags from public.system_metrics where service_name = 'worker' and metric_name = 'worker.run'
        and tags ->> 'worker_id' = $1`, [summary.worker_id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].tags).toMatchObject({ outcome: summary.outcome, stopped: 'drained' });
    const health = await serviceClient().rpc('health_check');
    expect(health.error).toBeNull();
    expect(health.data.queue).toHaveProperty('oldest_ready_age_seconds');
    expect(new Date(health.data.queue.worker_last_run_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(['ok', 'failures', 'error']).toContain(health.data.queue.worker_last_outcome);
  });
});
