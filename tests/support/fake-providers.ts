// Fake provider APIs for the worker's tests: real HTTP servers on loopback
// that record every request and answer as the test scripts them (an error
// status, a delay past the worker's timeout), with the providers' shapes:
// Resend (POST /emails, Idempotency-Key honoured as Resend does: a repeated
// key delivers nothing new and returns the first email's id) and the
// WhatsApp Cloud API (POST /{phone-number-id}/messages -> {messages:[{id}]}).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** What the next requests get: an error status, or a delay before the normal answer. */
export interface Scripted {
  status?: number;
  delayMs?: number;
  body?: unknown;
}

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order; after them, the normal answer. */
  script(...answers: Scripted[]): void;
  /** Every request answers this until cleared (null). */
  always(answer: Scripted | null): void;
  close(): Promise<void>;
}

type Answer = (req: RecordedRequest) => { status: number; body: unknown };

async function startFake(normal: Answer): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const queue: Scripted[] = [];
  let fixed: Scripted | null = null;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* recorded as text */ }
    const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
    requests.push(recorded);
    const scripted = queue.shift() ?? fixed ?? {};
    if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
    if (res.destroyed || req.socket.destroyed) return; // the worker gave up (timeout): nobody to answer
    const answer = scripted.status ? { status: scripted.status, body: scripted.body ?? { message: 'scripted failure' } } : normal(recorded);
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...answers) => queue.push(...answers),
    always: (answer) => { fixed = answer; },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface FakeResend extends FakeProvider {
  /** Emails delivered: one per idempotency key (or per request without one). */
  delivered: Array<{ id: string; key: string | undefined; body: any }>;
}

export async function startFakeResend(): Promise<FakeResend> {
  const delivered: FakeResend['delivered'] = [];
  const byKey = new Map<string, string>();
  const fake = await startFake((req) => {
    if (req.method !== 'POST' || req.path !== '/emails') return { status: 404, body: { message: 'not found' } };
    const key = req.headers['idempotency-key'] as string | undefined;
    const seen = key ? byKey.get(key) : undefined;
    if (seen) return { status: 200, body: { id: seen } };
    const id = `email_${delivered.length + 1}_${Math.random().toString(36).slice(2, 8)}`;
    if (key) byKey.set(key, id);
    delivered.push({ id, key, body: req.body });
    return { status: 200, body: { id } };
  });
  return Object.assign(fake, { delivered });
}

export interface FakeWhatsApp extends FakeProvider {
  sent: Array<{ id: string; phoneNumberId: string; body: any }>;
}

export async function startFakeWhatsApp(): Promise<FakeWhatsApp> {
  const sent: FakeWhatsApp['sent'] = [];
  const fake = await startFake((req) => {
    const m = /^\/([^/]+)\/messages$/.exec(req.path);
    if (req.method !== 'POST' || !m) return { status: 404, body: { error: { message: 'unknown path' } } };
    const id = `wamid.${sent.length + 1}${Math.random().toString(36).slice(2, 8)}`;
    sent.push({ id, phoneNumberId: m[1]!, body: req.body });
    return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ wa_id: req.body?.to }], messages: [{ id }] } };
  });
  return Object.assign(fake, { sent });
}
