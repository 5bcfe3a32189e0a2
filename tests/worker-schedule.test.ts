// The local stack's stand-in for the hosted worker schedule (pg_cron -> pg_net
// -> /functions/v1/worker): the functions runtime calling the worker function
// itself. Pointed here at a recording server in place of the worker process,
// so no other test file's jobs are touched.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleWorker } from '../local-stack/gateway/functions-runtime.mjs';

let server: http.Server;
let port: number;
const calls: Array<{ method: string; apikey: string | undefined; body: string }> = [];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    for await (const c of req) body += c;
    calls.push({ method: req.method ?? '', apikey: req.headers.apikey as string | undefined, body });
    await new Promise((r) => setTimeout(r, 60)); // a run takes a while
    inFlight -= 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"outcome":"ok"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('local worker schedule', () => {
  it('calls the worker as a service, again and again, one run at a time, until stopped', async () => {
    const functions = new Map([['worker', { port, ready: true }]]);
    const stop = scheduleWorker({ functions, secretKey: 'sb_secret_test', everySeconds: 0.02 });
    while (calls.length < 3) await new Promise((r) => setTimeout(r, 10));
    stop();
    const seen = calls.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(calls.length - seen).toBeLessThanOrEqual(1); // at most the run already under way
    expect(calls.every((c) => c.method === 'POST' && c.apikey === 'sb_secret_test' && c.body === '{}')).toBe(true);
    expect(maxInFlight).toBe(1); // the next run starts after the previous one returned
  });
});
