// The local API gateway under bad clients and faults: oversized and malformed
// input gets 400/413 with a PostgREST-shaped body, memory stays bounded under
// parallel large bodies, a database restart gives 503s and then recovers, a
// killed function process is restarted, and no error body names an internal
// port. The gateway runs in a child process (so its memory and survival can be
// observed) against a throwaway cluster of its own (restarted here, so the
// shared test database is never touched). docs/functions.md has the limits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayDatabase } from '../local-stack/throwaway.mjs';
import { dbUrl, freePort, local, psql, repoRoot, startCluster, stopCluster } from '../local-stack/lib.mjs';
import { groupMembers, inspectGateway, startGateway, stopGateway } from '../local-stack/gateway-process.mjs';
import { maxBodyBytes, maxJsonDepth } from '../local-stack/gateway/http-input.mjs';

type Throwaway = Awaited<ReturnType<typeof createThrowawayDatabase>>;
interface Reply { status: number; headers: http.IncomingHttpHeaders; text: string }
interface GatewayStatus { pid: number; ready: boolean; rss: number; functions: Record<string, { ready: boolean; pid: number; restarts: number }> }

const anonHeaders = { apikey: local.publishableKey, 'content-type': 'application/json' };
// The gateway's resident memory may grow by at most this much over its idle
// size while 16 clients send 9.5 MB bodies at once (before the body budget
// such a load took it to 3.3 GB, and 24 clients killed it). The budget admits
// one body at the limit at a time, the rest wait unread, and a full garbage
// collection follows each, so the peak is about one request's worth.
const rssGrowthBound = 300 * 1024 * 1024;

let db: Throwaway;
let gateway: ChildProcess;
let base = '';
let gatewayLog = '';

const sql = (text: string) => psql(dbUrl(db.port), ['-v', 'ON_ERROR_STOP=1', '-At', '-c', text]).stdout.trim();

// The gateway with the health function only, as `npm start` runs it.
const gatewayScript = `
import { startApi } from ${JSON.stringify(`${repoRoot}/local-stack/gateway/server.mjs`)};
import { local, localFunctionDefaults, repoRoot } from ${JSON.stringify(`${repoRoot}/local-stack/lib.mjs`)};
const api = await startApi({ dbUrl: process.argv[1], repoRoot, keys: local, onlyFunctions: ['health'],
  functionDefaults: localFunctionDefaults, log: (m) => process.stderr.write(m + '\\n') });
process.stdout.write(JSON.stringify({ url: api.url }) + '\\n');
process.on('SIGTERM', async () => { await api.close(); process.exit(0); });
`;

function startTestGateway(url: string): Promise<string> {
  gateway = spawn(process.execPath, ['--input-type=module', '-e', gatewayScript, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  gateway.stderr!.on('data', (d) => { gatewayLog = (gatewayLog + d).slice(-20_000); });
  return new Promise((resolve, reject) => {
    gateway.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).url));
    gateway.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${gatewayLog}`)));
  });
}

/** One request with a raw body (Buffer, or an iterable of chunks sent chunked). */
function request(path: string, { method = 'POST', headers = anonHeaders as Record<string, string>, body }:
  { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(body);
    const req = http.request(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body && !chunked ? { 'content-length': String(body.length) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunked) {
      for (const c of body) req.write(c);
      req.end();
    } else req.end(body);
  });
}

const json = (r: Reply) => JSON.parse(r.text);

async function status(): Promise<GatewayStatus> {
  return json(await request('/__local/status', { method: 'GET', headers: {} }));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 100, everyMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}\n${gatewayLog.slice(-3000)}`);
}

beforeAll(async () => {
  db = await createThrowawayDatabase();
  sql(`
    create function public.fault_echo(p_text text default '') returns integer
      language sql immutable as $$ select length(p_text) $$;
    grant execute on function public.fault_echo(text) to anon;
    create function public.fault_depth(p_value jsonb) returns integer
      language sql immutable as $$ select 1 $$;
    grant execute on function public.fault_depth(jsonb) to anon;
    create function public.fault_slow() returns integer
      language sql volatile as $$ select 1 from pg_sleep(0.2) $$;
    grant execute on function public.fault_slow() to anon;
    create function public.fault_private(p_payload text) returns integer
      language sql immutable as $$ select 1 $$;
    revoke execute on function public.fault_private(text) from public, anon, authenticated;`);
  base = await startTestGateway(db.url);
  await until('the gateway to be ready', async () => ((await status()).ready ? true : undefined));
}, 60_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
  db?.destroy();
}, 30_000);

describe('input the gateway refuses', () => {
  it('answers a body over the limit 413 before reading it, and the client gets the answer', async () => {
    const declared = await request('/rest/v1/rpc/fault_echo', { body: Buffer.alloc(maxBodyBytes + 1024 * 1024, 0x20) });
    expect(declared.status).toBe(413);
    expect(json(declared)).toMatchObject({
      code: 'LOCAL413',
      message: `Request body too large: the local API gateway accepts at most ${maxBodyBytes} bytes`,
      details: `Content-Length is ${maxBodyBytes + 1024 * 1024} bytes`,
    });
    expect(declared.headers.connection).toBe('close');
    // chunked: refused once the limit is passed
    const chunks = Array.from({ length: 11 }, () => Buffer.alloc(1024 * 1024, 0x20));
    const streamed = await request('/rest/v1/rpc/fault_echo', { body: chunks });
    expect(streamed.status).toBe(413);
    expect(json(streamed)).toMatchObject({ code: 'LOCAL413', details: `The body passed ${maxBodyBytes} bytes` });
  });

  it('accepts a body at the limit, even for a function the caller may not execute', async () => {
    const body = Buffer.from(JSON.stringify({ p_payload: 'x'.repeat(maxBodyBytes - 20) }));
    expect(body.length).toBeLessThanOrEqual(maxBodyBytes);
    const r = await request('/rest/v1/rpc/fault_private', { body });
    expect(r.status).toBe(401); // read, parsed and called as anon: PostgREST's 401 42501
    expect(json(r).code).toBe('42501');
    expect(gateway.exitCode).toBeNull();
  }, 20_000);

  it('refuses NUL in query parameters and form bodies with 400 22021, as PostgreSQL would', async () => {
    const query = await request('/rest/v1/rpc/fault_echo?p_text=a%00b', { method: 'GET' });
    expect(query.status).toBe(400);
    expect(json(query)).toMatchObject({ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' });
    expect(json(query).details).toContain('"p_text" contains a NUL character');
    const form = await request('/rest/v1/rpc/fault_echo', {
      headers: { ...anonHeaders, 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('p_text=a%00b'),
    });
    expect(form.status).toBe(400);
    expect(json(form).code).toBe('22021');
  });

  it('leaves a \\u0000 escape in JSON to PostgreSQL, which refuses it for text as it does behind PostgREST', async () => {
    const r = await request('/rest/v1/rpc/fault_echo', { body: Buffer.from('{"p_text":"a\\u0000b"}') });
    expect(r.status).toBe(400);
    expect(json(r).code).toBe('22P05');
  });

  it('refuses invalid UTF-8 instead of replacing it', async () => {
    const query = await request('/rest/v1/rpc/fault_echo?p_text=%C3%28', { method: 'GET' });
    expect(query.status).toBe(400);
    expect(json(query)).toMatchObject({ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0xc3 0x28' });
    const body = await request('/rest/v1/rpc/fault_echo', { body: Buffer.from([...Buffer.from('{"p_text":"'), 0xff, ...Buffer.from('"}')]) });
    expect(body.status).toBe(400);
    expect(json(body)).toMatchObject({ code: 'PGRST102', message: 'Empty or invalid json', details: 'The request body is not valid UTF-8 at byte 11' });
  });

  it('refuses JSON nested deeper than the limit with 400, and takes it at the limit', async () => {
    const deep = await request('/rest/v1/rpc/fault_echo', { body: Buffer.from(`{"p_text":${'['.repeat(20_000)}${']'.repeat(20_000)}}`) });
    expect(deep.status).toBe(400);
    expect(json(deep)).toMatchObject({ code: 'LOCAL400', message: `JSON nested deeper than ${maxJsonDepth} levels` });
    // PostgreSQL parses it (jsonb), so the limit is below what it takes
    const atLimit = await request('/rest/v1/rpc/fault_depth', {
      body: Buffer.from(`{"p_value": ${'['.repeat(maxJsonDepth - 1)}${']'.repeat(maxJsonDepth - 1)}}`),
    });
    expect(atLimit.status).toBe(200);
  });
});

describe('load and faults', () => {
  it('keeps its memory bounded and answers others while 16 clients send large bodies at once', async () => {
    const idle = (await status()).rss;
    const big = Buffer.from(JSON.stringify({ p_payload: 'y'.repeat(Math.floor(maxBodyBytes * 0.95)) }));
    let peak = idle;
    let bigDone = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await status()).rss);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const bigs = Array.from({ length: 16 }, async () => {
      const r = await request('/rest/v1/rpc/fault_missing', { body: big });
      bigDone += 1;
      return r;
    });
    // a small call is not queued behind the large ones
    const small = await request('/rest/v1/rpc/fault_echo', { body: Buffer.from('{"p_text":"abc"}') });
    expect(small.status).toBe(200);
    expect(bigDone).toBeLessThan(16);
    const replies = await Promise.all(bigs);
    sampling = false;
    await sampler;
    // read, decoded and parsed, for a function that is not there: PostgREST's 404
    expect(replies.map((r) => r.status)).toEqual(Array(16).fill(404));
    expect(json(replies[0]!).code).toBe('PGRST202');
    expect(gateway.exitCode).toBeNull();
    expect(peak - idle).toBeLessThan(rssGrowthBound);
  }, 50_000);

  it('answers 503 while the database restarts, survives it and reconnects by itself', async () => {
    const seen = new Map<number, number>();
    let running = true;
    // slow calls, so that connections are busy when the server goes away
    const load = Array.from({ length: 8 }, async () => {
      while (running) {
        const r = await request('/rest/v1/rpc/fault_slow', { body: Buffer.from('{}') }).catch(() => null);
        if (!r) { // no answer at all: the gateway is gone
          seen.set(0, 1);
          return;
        }
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status === 503) expect(json(r).code).toMatch(/^(PGRST000|PGRST001|57P01|08\w{3})$/);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    stopCluster(db.dataDir);
    await new Promise((r) => setTimeout(r, 500));
    const down = await request('/rest/v1/rpc/fault_echo?p_text=abc', { method: 'GET' });
    expect(down.status).toBe(503);
    expect(json(down).code).toBe('PGRST000');
    expect(down.text).not.toContain(String(db.port)); // the database's address is not the client's business
    startCluster(db.dataDir, `${db.dataDir}/../postgres.log`);
    await until('a 200 after the restart', async () =>
      ((await request('/rest/v1/rpc/fault_echo?p_text=abc', { method: 'GET' })).status === 200 ? true : undefined));
    running = false;
    await Promise.all(load);
    expect(gateway.exitCode).toBeNull();
    expect([...seen.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    // the schema-cache listener is back: a LISTEN connection of the gateway's
    await until('the LISTEN connection', async () =>
      (sql(`select count(*) from pg_stat_activity where application_name = 'local-api-gateway-listener' and query ilike 'listen%'`) === '1' ? true : undefined));
  }, 40_000);

  it('restarts a function process killed with SIGKILL, answering 503 meanwhile, never naming a port', async () => {
    const before = (await status()).functions.health!;
    expect(before.ready).toBe(true);
    process.kill(before.pid, 'SIGKILL');
    const during = await request('/functions/v1/health', { method: 'GET' });
    expect([502, 503]).toContain(during.status);
    expect(during.text).not.toMatch(/127\.0\.0\.1|localhost|:\d{2,5}\b/);
    const after = await until('the function to be restarted', async () => {
      const s = (await status()).functions.health!;
      return s.ready && s.pid !== before.pid ? s : undefined;
    });
    expect(after.restarts).toBe(before.restarts + 1);
    const r = await request('/functions/v1/health', { method: 'GET' });
    expect(r.headers['sb-error-code']).toBeUndefined();
    expect(json(r)).toHaveProperty('status'); // the function's own answer
  }, 30_000);
});

// What `npm start` / `npm run status` / `npm stop` do with the background
// gateway (local-stack/stack.mjs through gateway-process.mjs), on a state file
// and port of the test's own.
describe('the background gateway of npm start', () => {
  it('reports a restarting function as degraded, and stop leaves no process behind after a gateway crash', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-faults-'));
    const where = { stateFile: path.join(dir, 'api.json'), url: '' };
    try {
      const port = await freePort(55000 + Math.floor(Math.random() * 5000));
      where.url = `http://127.0.0.1:${port}`;
      const started = await startGateway({ ...where, logFile: path.join(dir, 'api.log'), port, dbUrl: db.url });
      const running = await inspectGateway(where);
      expect(running.state).toBe('running');
      const functionPids = Object.values(running.status.functions as GatewayStatus['functions']).map((f) => f.pid);
      expect(functionPids.length).toBeGreaterThan(0);
      expect(running.processes.sort()).toEqual([started.pid, ...functionPids].sort());

      process.kill(functionPids[0]!, 'SIGKILL');
      await until('status to say degraded', async () => ((await inspectGateway(where)).state === 'degraded' ? true : undefined), 200, 20);
      await until('the function to be back', async () => ((await inspectGateway(where)).state === 'running' ? true : undefined));

      // the gateway dies without cleaning up: its function processes remain
      process.kill(started.pid!, 'SIGKILL');
      const crashed = await until('status to say crashed', async () => {
        const found = await inspectGateway(where);
        return found.state === 'crashed' ? found : undefined;
      });
      expect(crashed.processes.length).toBe(functionPids.length);
      expect(await stopGateway(where)).toBe(functionPids.length);
      expect(groupMembers(started.pid!)).toEqual([]);
      expect((await inspectGateway(where)).state).toBe('stopped');
    } finally {
      await stopGateway(where);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
