// The worker's job handlers and channel senders, each called directly with a
// WorkerContext built here: the service-role client against the test API,
// the environment from a map, and the global fetch pointed at small fake
// providers on 127.0.0.1 that record every request. Asserted: the provider
// request, the database side effects (usage charged once, notifications
// created once), and how failures are classified.
import { createDecipheriv, createECDH, hkdfSync, randomUUID, type ECDH } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pushSender } from '../supabase/functions/worker/handlers/push.ts';
import { quizHandler, type QuizPayload } from '../supabase/functions/worker/handlers/quiz.ts';
import { smsSender } from '../supabase/functions/worker/handlers/sms.ts';
import type { JobInput, NotificationInput, WorkerContext } from '../supabase/functions/worker/handlers/types.ts';
import { WorkerError } from '../supabase/functions/worker/handlers/types.ts';
import { videoHandler, type VideoPayload } from '../supabase/functions/worker/handlers/video.ts';
import { apiUrl, keys, serviceClient } from './support/api.ts';
import { asService, testDatabase, type TestUser } from './support/db.ts';

const { db, users } = testDatabase(4);

// ---------------------------------------------------------------------------
// A fake provider: records each request; `reply` decides each answer.
// ---------------------------------------------------------------------------
interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
type Reply = (req: Recorded, res: ServerResponse) => void;

const requests: Recorded[] = [];
let reply: Reply = (_req, res) => res.writeHead(500).end();
let server: Server;
let providerUrl: string;

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (_req, res) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
/** Answers nothing: the handler's deadline ends the request. */
const hang: Reply = () => {};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: await collect(req) };
    requests.push(recorded);
    reply(recorded, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
});

// ---------------------------------------------------------------------------
// The context a handler gets
// ---------------------------------------------------------------------------
function context(env: Record<string, string | undefined>, opts: { db?: SupabaseClient; budgetMs?: number } = {}): WorkerContext {
  return {
    db: opts.db ?? serviceClient(),
    env: (name) => env[name],
    fetch: globalThis.fetch,
    now: () => new Date(),
    deadline: Date.now() + (opts.budgetMs ?? 10_000),
    log: () => {},
  };
}

/** The WorkerError a failing run throws. */
async function failure(p: Promise<unknown>): Promise<WorkerError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(WorkerError);
  return e as WorkerError;
}

let nextJobId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
function job<P>(type: string, payload: P, userId: string | null, idempotencyKey = `test:${randomUUID()}`): JobInput<P> {
  return { id: nextJobId++, type, payload, attempt: 1, userId, idempotencyKey };
}

async function notificationsOf(user: TestUser) {
  const { rows } = await db.query(
    'select id, channel, status, title, body, data, sent_at from public.notifications where user_id = $1 order by created_at',
    [user.id],
  );
  return rows;
}

// ---------------------------------------------------------------------------
// quiz/generation.requested
// ---------------------------------------------------------------------------
describe('quiz/generation.requested', () => {
  const quiz = {
    title: 'Photosynthesis basics',
    questions: [
      { question: 'What gas do plants take in?', options: ['Oxygen', 'Carbon dioxide'], answer_index: 1, explanation: 'CO2 is fixed.' },
      { question: 'Where does it happen?', options: ['Chloroplast', 'Nucleus', 'Ribosome'], answer_index: 0 },
    ],
  };
  const completion = (content: string) => ({
    id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1000, completion_tokens: 400, total_tokens: 1400, prompt_tokens_details: { cached_tokens: 200 } },
  });
  const env = () => ({ OPENAI_API_KEY: 'sk-test', OPENAI_API_URL: `${providerUrl}/v1` });
  const payload = (extra: Partial<QuizPayload> = {}): QuizPayload =>
    quizHandler.payload.parse({ topic: 'photosynthesis', question_count: 2, ...extra });

  async function usageRows(user: TestUser, key: string) {
    const { rows } = await db.query(
      `select model_used, agent_type, input_tokens, output_tokens, cached_input_tokens, total_cost::text, metadata
         from public.usage_logs where user_id = $1 and idempotency_key = $2`,
      [user.id, key],
    );
    return rows;
  }

  it('asks the default OpenAI model, charges the usage at model_config prices and notifies in-app', async () => {
    const user = await users.create();
    reply = json(200, completion(JSON.stringify(quiz)));
    const j = job('quiz/generation.requested', payload(), user.id);
    const result = (await quizHandler.run(context(env()), j)) as Record<string, unknown>;

    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body.toString());
    expect(body.model).toBe('gpt-4o');
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.user).toBe(user.id);
    expect(body.messages.at(-1).content).toContain('photosynthesis');

    // gpt-4o: 2.50 input, 1.25 cached input, 10.00 output per 1M tokens
    const cost = (800 * 2.5 + 200 * 1.25 + 400 * 10) / 1e6;
    const usage = await usageRows(user, j.idempotencyKey);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ model_used: 'gpt-4o', agent_type: 'quiz_generation', input_tokens: 1000,
      output_tokens: 400, cached_input_tokens: 200, metadata: { job_id: j.id, job_type: 'quiz/generation.requested' } });
    expect(Number(usage[0]!.total_cost)).toBeCloseTo(cost, 10);

    // the credits held before the call were settled by the usage row
    const holds = await db.query('select status, usage_log_id from private.credit_reservations where user_id = $1', [user.id]);
    expect(holds.rows).toEqual([{ status: 'settled', usage_log_id: result.usage_log_id }]);

    const notes = await notificationsOf(user);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ channel: 'in_app', status: 'sent', title: 'Your quiz is ready' });
    expect(notes[0]!.data).toMatchObject({ kind: 'quiz.generated', job_id: j.id, idempotency_key: j.idempotencyKey, result: { quiz } });
    expect(result).toMatchObject({ quiz, model: 'gpt-4o', notification_id: notes[0]!.id });
    expect(result.cost).toBeCloseTo(cost, 10);
  });

  it('run again for the same job, returns the stored quiz without calling the model or charging again', async () => {
    const user = await users.create();
    reply = json(200, completion(JSON.stringify(quiz)));
    const j = job('quiz/generation.requested', payload(), user.id);
    const first = await quizHandler.run(context(env()), j);
    const second = await quizHandler.run(context(env()), { ...j, attempt: 2 });
    expect(requests).toHaveLength(1);
    expect(second).toEqual(first);
    expect(await usageRows(user, j.idempotencyKey)).toHaveLength(1);
    expect(await notificationsOf(user)).toHaveLength(1);
  });

  it('charges once when a retry calls the model again after the first answer was unusable', async () => {
    const user = await users.create();
    reply = json(200, completion('this is not JSON'));
    const j = job('quiz/generation.requested', payload(), user.id);
    const e = await failure(quizHandler.run(context(env()), j));
    expect(e).toMatchObject({ retryable: true, code: 'invalid_output' });
    expect(await usageRows(user, j.idempotencyKey)).toHaveLength(1);
    expect(await notificationsOf(user)).toHaveLength(0);

    reply = json(200, completion(JSON.stringify(quiz)));
    const result = await quizHandler.run(context(env()), { ...j, attempt: 2 });
    expect(result).toMatchObject({ quiz });
    expect(requests).toHaveLength(2);
    expect(await usageRows(user, j.idempotencyKey)).toHaveLength(1);
    const { rows } = await db.query('select requests_count from public.daily_usage where user_id = $1', [user.id]);
    expect(rows.map((r) => r.requests_count)).toEqual([1]);
    expect(await notificationsOf(user)).toHaveLength(1);
  });

  it('uses the requested model when it is an active OpenAI one, and refuses one that is not', async () => {
    const user = await users.create();
    reply = json(200, completion(JSON.stringify(quiz)));
    await quizHandler.run(context(env()), job('quiz/generation.requested', payload({ model: 'gpt-4o-mini' }), user.id));
    expect(JSON.parse(requests[0]!.body.toString()).model).toBe('gpt-4o-mini');

    for (const model of ['gpt-4-turbo', 'claude-3-5-haiku-20241022', 'no-such-model']) {
      const e = await failure(quizHandler.run(context(env()), job('quiz/generation.requested', payload({ model }), user.id)));
      expect(e).toMatchObject({ retryable: false, code: 'unknown_model' });
    }
    expect(requests).toHaveLength(1);
  });

  it('classifies provider failures: 500, 429 and a timeout retryable, 400 permanent, nothing charged', async () => {
    const user = await users.create();
    const cases: Array<[Reply, boolean, number?]> = [
      [json(500, { error: { message: 'server error' } }), true],
      [json(429, { error: { message: 'rate limited' } }), true],
      [hang, true, 300],
      [json(400, { error: { message: 'bad request' } }), false],
    ];
    for (const [r, retryable, budgetMs] of cases) {
      reply = r;
      const j = job('quiz/generation.requested', payload(), user.id);
      const e = await failure(quizHandler.run(context(env(), { budgetMs }), j));
      expect(e.retryable).toBe(retryable);
      expect(e.code).toBe(retryable ? 'provider_unavailable' : 'provider_rejected');
      if (budgetMs) expect(e.message).toContain('timed out');
    }
    expect(requests).toHaveLength(4);
    const { rows } = await db.query('select count(*)::int as n from public.usage_logs where user_id = $1', [user.id]);
    expect(rows[0]!.n).toBe(0);
  });

  it('does not call the model for a user whose credits are spent', async () => {
    const user = await users.create();
    // basic plan: 1 credit a day; 400k gpt-4o input tokens cost exactly 1.00
    await asService(db, `select public.record_usage($1, 'gpt-4o', 400000, 0)`, [user.id]);
    reply = json(200, completion(JSON.stringify(quiz)));
    const e = await failure(quizHandler.run(context(env()), job('quiz/generation.requested', payload(), user.id)));
    expect(e).toMatchObject({ retryable: false, code: 'credit_limit' });
    expect(e.message).toContain('daily_credit_limit');
    expect(requests).toHaveLength(0);
    expect(await notificationsOf(user)).toHaveLength(0);
  });

  it('fails without retrying when OPENAI_API_KEY is not set, or the job has no user', async () => {
    const user = await users.create();
    const unset = await failure(quizHandler.run(context({}), job('quiz/generation.requested', payload(), user.id)));
    expect(unset).toMatchObject({ retryable: false, code: 'not_configured' });
    expect(unset.message).toContain('OPENAI_API_KEY');
    const orphan = await failure(quizHandler.run(context(env()), job('quiz/generation.requested', payload(), null)));
    expect(orphan).toMatchObject({ retryable: false, code: 'invalid_payload' });
    expect(requests).toHaveLength(0);
  });

  it('takes the user from the payload when the service role enqueued the job', async () => {
    const user = await users.create();
    reply = json(200, completion(JSON.stringify(quiz)));
    const j = job('quiz/generation.requested', payload({ user_id: user.id }), null);
    await quizHandler.run(context(env()), j);
    expect(await usageRows(user, j.idempotencyKey)).toHaveLength(1);
  });

  it('rejects payloads outside the schema', () => {
    expect(quizHandler.payload.safeParse({}).success).toBe(false);
    expect(quizHandler.payload.safeParse({ topic: 'x', question_count: 21 }).success).toBe(false);
    expect(quizHandler.payload.parse({ topic: 'x' })).toMatchObject({ question_count: 5, difficulty: 'medium' });
  });
});

// ---------------------------------------------------------------------------
// video/upload.completed: the Storage API is the fake provider here
// ---------------------------------------------------------------------------
describe('video/upload.completed', () => {
  // The service client, its Storage requests sent to the fake (the local
  // gateway serves no Storage API); everything else to the test API.
  const storageDb = () => createClient(apiUrl, keys.secretKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (!url.pathname.startsWith('/storage/v1/')) return fetch(input, init);
        return fetch(`${providerUrl}${url.pathname}${url.search}`, init);
      },
    },
  });
  const info = {
    id: randomUUID(), name: 'x', version: 'v1', bucket_id: 'documents', size: 7340032, content_type: 'video/mp4',
    cache_control: 'max-age=3600', etag: '"abc123"', metadata: {}, last_modified: '2026-12-01T10:00:00.000Z',
    created_at: '2026-12-01T10:00:00.000Z',
  };
  const payload = (user: TestUser, extra: Partial<VideoPayload> = {}): VideoPayload =>
    videoHandler.payload.parse({ bucket: 'documents', path: `${user.id}/lesson-1.mp4`, video_id: 'vid-1', ...extra });

  it('checks the object in Storage, returns what it processed and notifies the owner once', async () => {
    const user = await users.create();
    reply = json(200, info);
    const j = job('video/upload.completed', payload(user), user.id);
    const result = await videoHandler.run(context({}, { db: storageDb() }), j);

    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('GET');
    expect(requests[0]!.path).toBe(`/storage/v1/object/info/documents/${user.id}/lesson-1.mp4`);
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${keys.secretKey}`);
    expect(result).toMatchObject({ bucket: 'documents', path: `${user.id}/lesson-1.mp4`, video_id: 'vid-1', size: 7340032,
      content_type: 'video/mp4', etag: '"abc123"' });

    await videoHandler.run(context({}, { db: storageDb() }), { ...j, attempt: 2 });
    const notes = await notificationsOf(user);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ channel: 'in_app', status: 'sent', title: 'Your video is ready' });
    expect(notes[0]!.data).toMatchObject({ kind: 'video.processed', job_id: j.id, path: `${user.id}/lesson-1.mp4`, size: 7340032 });
  });

  it('fails permanently when the object does not exist (404, or the older 400 with statusCode 404)', async () => {
    const user = await users.create();
    for (const r of [json(404, { statusCode: '404', error: 'not_found', message: 'Object not found' }),
      json(400, { statusCode: '404', error: 'not_found', message: 'Object not found' })]) {
      reply = r;
      const e = await failure(videoHandler.run(context({}, { db: storageDb() }), job('video/upload.completed', payload(user), user.id)));
      expect(e).toMatchObject({ retryable: false, code: 'not_found' });
    }
    expect(await notificationsOf(user)).toHaveLength(0);
  });

  it('retries when Storage is unavailable', async () => {
    const user = await users.create();
    reply = json(503, { statusCode: '503', error: 'unavailable', message: 'try later' });
    const e = await failure(videoHandler.run(context({}, { db: storageDb() }), job('video/upload.completed', payload(user), user.id)));
    expect(e.retryable).toBe(true);
  });

  it('refuses an object outside the owner\'s folder without asking Storage', async () => {
    const [owner, other] = await users.createMany(2);
    const j = job('video/upload.completed', payload(owner!, { path: `${other!.id}/secret.mp4` }), owner!.id);
    const e = await failure(videoHandler.run(context({}, { db: storageDb() }), j));
    expect(e).toMatchObject({ retryable: false, code: 'forbidden' });
    expect(requests).toHaveLength(0);
    expect(videoHandler.payload.safeParse({ bucket: 'documents', path: `${owner!.id}/../x.mp4` }).success).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Channel senders: a notification row claimed (status sending), as the worker hands it over
// ---------------------------------------------------------------------------
async function claimedNotification(user: TestUser, channel: 'sms' | 'push', data: Record<string, unknown>): Promise<NotificationInput> {
  const { rows } = await db.query(
    `insert into public.notifications (user_id, channel, title, body, data, status, attempts)
     values ($1, $2, 'Lesson reminder', 'Your lesson starts in 10 minutes.', $3, 'sending', 1) returning id`,
    [user.id, channel, data],
  );
  const id = rows[0]!.id as string;
  return { id, userId: user.id, channel, title: 'Lesson reminder', body: 'Your lesson starts in 10 minutes.', data,
    attempt: 1, idempotencyKey: `notification:${id}` };
}

async function sentAt(id: string): Promise<Date | null> {
  const { rows } = await db.query('select sent_at from public.notifications where id = $1', [id]);
  return rows[0]!.sent_at as Date | null;
}

describe('sms channel (Twilio)', () => {
  const env = () => ({ TWILIO_API_URL: providerUrl, TWILIO_ACCOUNT_SID: 'AC0123', TWILIO_AUTH_TOKEN: 'token-1',
    TWILIO_FROM_NUMBER: '+15005550006' });
  const twilioOk = json(201, { sid: 'SM0001', status: 'queued' });

  it('posts the message with basic auth and the idempotency token, and records it sent once', async () => {
    const user = await users.create();
    const n = await claimedNotification(user, 'sms', { phone: '+250788123456' });
    reply = twilioOk;
    expect(await smsSender.send(context(env()), n)).toEqual({ providerId: 'SM0001' });

    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/2010-04-01/Accounts/AC0123/Messages.json');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('AC0123:token-1').toString('base64')}`);
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers['i-twilio-idempotency-token']).toBe(n.idempotencyKey);
    expect(Object.fromEntries(new URLSearchParams(req.body.toString()))).toEqual({
      To: '+250788123456', From: '+15005550006', Body: 'Lesson reminder\nYour lesson starts in 10 minutes.',
    });
    expect(await sentAt(n.id)).toBeInstanceOf(Date);

    // a second claim of the same notification (the lease ran out before the result was recorded)
    expect(await smsSender.send(context(env()), { ...n, attempt: 2 })).toEqual({});
    expect(requests).toHaveLength(1);
  });

  it('classifies failures: 500, 429 and a timeout retryable (not marked sent), 400 permanent', async () => {
    const user = await users.create();
    const cases: Array<[Reply, boolean, number?]> = [
      [json(500, { message: 'error' }), true], [json(429, { code: 20429 }), true], [hang, true, 300],
      [json(400, { code: 21211, message: 'Invalid To number' }), false],
    ];
    for (const [r, retryable, budgetMs] of cases) {
      const n = await claimedNotification(user, 'sms', { phone: '+250788123456' });
      reply = r;
      const e = await failure(smsSender.send(context(env(), { budgetMs }), n));
      expect(e.retryable).toBe(retryable);
      expect(await sentAt(n.id)).toBeNull();
    }
  });

  it('fails without retrying when Twilio is not configured or the notification has no phone', async () => {
    const user = await users.create();
    const n = await claimedNotification(user, 'sms', { phone: '+250788123456' });
    for (const variable of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM_NUMBER']) {
      const e = await failure(smsSender.send(context({ ...env(), [variable]: undefined }), n));
      expect(e).toMatchObject({ retryable: false, code: 'not_configured' });
      expect(e.message).toContain(variable);
    }
    for (const data of [{}, { phone: '0788123456' }]) {
      const e = await failure(smsSender.send(context(env()), { ...n, data }));
      expect(e).toMatchObject({ retryable: false, code: 'invalid_payload' });
    }
    expect(requests).toHaveLength(0);
  });
});

describe('push channel (Web Push, VAPID)', () => {
  // The browser's side: its subscription keys (RFC 8291 ua keys) and the
  // application's VAPID key pair in web-push's format, made with node:crypto
  // so the decryption below is independent of the sender's WebCrypto code.
  const b64url = (b: Buffer) => b.toString('base64url');
  let browser: ECDH;
  let authSecret: Buffer;
  let vapid: { publicKey: string; privateKey: string };
  beforeAll(() => {
    browser = createECDH('prime256v1');
    browser.generateKeys();
    authSecret = Buffer.from(Array.from({ length: 16 }, (_, i) => i * 7 + 3));
    const v = createECDH('prime256v1');
    v.generateKeys();
    // padded to 32 bytes as web-push's generateVAPIDKeys() does
    vapid = { publicKey: b64url(v.getPublicKey()), privateKey: b64url(Buffer.from(v.getPrivateKey().toString('hex').padStart(64, '0'), 'hex')) };
  });
  const subscription = (path = '/push/abc') => ({
    endpoint: `${providerUrl}${path}`, keys: { p256dh: b64url(browser.getPublicKey()), auth: b64url(authSecret) },
  });
  const env = () => ({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' });

  /** RFC 8291 decryption, as the browser does it. */
  function decrypt(body: Buffer): unknown {
    const salt = body.subarray(0, 16);
    const idlen = body[20]!;
    const senderKey = body.subarray(21, 21 + idlen);
    const ciphertext = body.subarray(21 + idlen);
    const secret = browser.computeSecret(senderKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), browser.getPublicKey(), senderKey]);
    const ikm = Buffer.from(hkdfSync('sha256', secret, authSecret, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (padded[end] === 0) end--;
    expect(padded[end]).toBe(2); // the last record's delimiter
    return JSON.parse(padded.subarray(0, end).toString());
  }

  it('sends the message encrypted for the subscription with a VAPID token for the push service, once', async () => {
    const user = await users.create();
    const n = await claimedNotification(user, 'push', { push_subscription: subscription(), lesson_id: 42 });
    reply = (_req, res) => res.writeHead(201, { location: `${providerUrl}/messages/m1` }).end();
    expect(await pushSender.send(context(env()), n)).toEqual({ providerId: `${providerUrl}/messages/m1` });

    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/push/abc');
    expect(req.headers).toMatchObject({ 'content-encoding': 'aes128gcm', 'content-type': 'application/octet-stream',
      ttl: '86400', urgency: 'normal', topic: n.id.replace(/-/g, '') });
    expect(req.body.readUInt32BE(16)).toBe(4096);
    expect(decrypt(req.body)).toEqual({ id: n.id, title: 'Lesson reminder', body: 'Your lesson starts in 10 minutes.',
      data: { lesson_id: 42 } });

    const auth = /^vapid t=([^,]+), k=(.+)$/.exec(String(req.headers.authorization));
    expect(auth).not.toBeNull();
    expect(auth![2]).toBe(vapid.publicKey);
    const pub = Buffer.from(vapid.publicKey, 'base64url');
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33)) }, 'ES256');
    const { payload, protectedHeader } = await jwtVerify(auth![1]!, key, { audience: providerUrl });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.sub).toBe('mailto:ops@example.com');
    expect(payload.exp! - Date.now() / 1000).toBeGreaterThan(11 * 3600);
    expect(payload.exp! - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600 + 5);

    expect(await sentAt(n.id)).toBeInstanceOf(Date);
    expect(await pushSender.send(context(env()), { ...n, attempt: 2 })).toEqual({});
    expect(requests).toHaveLength(1);
  });

  it('accepts a VAPID private key written without its leading zero byte', async () => {
    let v: ECDH;
    do {
      v = createECDH('prime256v1');
      v.generateKeys();
    } while (v.getPrivateKey().length === 32 && v.getPrivateKey()[0] !== 0);
    const short = v.getPrivateKey().subarray(v.getPrivateKey().length === 32 ? 1 : 0);
    const user = await users.create();
    const n = await claimedNotification(user, 'push', { push_subscription: subscription() });
    reply = (_req, res) => res.writeHead(201).end();
    await pushSender.send(context({ ...env(), VAPID_PUBLIC_KEY: b64url(v.getPublicKey()), VAPID_PRIVATE_KEY: b64url(short) }), n);
    const token = /^vapid t=([^,]+),/.exec(String(requests[0]!.headers.authorization))![1]!;
    const pub = v.getPublicKey();
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33)) }, 'ES256');
    await expect(jwtVerify(token, key, { audience: providerUrl })).resolves.toBeDefined();
  });

  it('classifies failures: 410 (subscription gone) and 400 permanent, 500, 429 and a timeout retryable', async () => {
    const user = await users.create();
    const cases: Array<[Reply, boolean, number?]> = [
      [json(410, {}), false], [json(400, {}), false], [json(500, {}), true], [json(429, {}), true], [hang, true, 300],
    ];
    for (const [r, retryable, budgetMs] of cases) {
      const n = await claimedNotification(user, 'push', { push_subscription: subscription() });
      reply = r;
      const e = await failure(pushSender.send(context(env(), { budgetMs }), n));
      expect(e.retryable).toBe(retryable);
      expect(await sentAt(n.id)).toBeNull();
    }
  });

  it('fails without retrying when VAPID is not configured, or without a subscription', async () => {
    const user = await users.create();
    const n = await claimedNotification(user, 'push', { push_subscription: subscription() });
    for (const variable of ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT']) {
      const e = await failure(pushSender.send(context({ ...env(), [variable]: undefined }), n));
      expect(e).toMatchObject({ retryable: false, code: 'not_configured' });
      expect(e.message).toContain(variable);
    }
    for (const data of [{}, { push_subscription: { endpoint: 'not a url', keys: { p256dh: 'x', auth: 'y' } } }]) {
      const e = await failure(pushSender.send(context(env()), { ...n, data }));
      expect(e).toMatchObject({ retryable: false, code: 'invalid_payload' });
      expect(e.message).toContain('push_subscription');
    }
    expect(requests).toHaveLength(0);
  });
});
