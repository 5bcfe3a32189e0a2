// The local API gateway: what Kong + PostgREST + the edge runtime are under
// `supabase start`, reduced to what this project's clients use, so that an
// unmodified @supabase/supabase-js client works against it. Keys and JWTs are
// handled as hosted Supabase handles them (auth.mjs), so a request gets the
// answer here that it gets from a hosted project:
//   /rest/v1/rpc/<fn>     PostgREST's RPC endpoint (rpc.mjs), behind the
//                         gateway's API-key mapping
//   /rest/v1/<relation>   PostgREST's table and view endpoints, the subset
//                         supabase-js's .from() uses (tables.mjs)
//   /functions/v1/<name>  the functions runtime (functions-runtime.mjs), with
//                         verify_jwt per function from supabase/config.toml,
//                         checked on the request as the caller sent it
// /auth/v1, storage and realtime are not served: the local stack has no GoTrue
// (docs/functions.md, README). What is not implemented answers 501.
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AuthError, GatewayError, claimsFromAuthorization, functionsJwtCheck, restAuthorization } from './auth.mjs';
import { listFunctions, startFunctions, supabaseFunctionEnv, verifyJwtSettings } from './functions-runtime.mjs';
import { createPool } from './db.mjs';
import { InputError, createBodyBudget, readRestBody, strictPathSegment, strictSearchParams } from './http-input.mjs';
import { notImplemented, reasonPhrase } from './errors.mjs';
import { PgrstError, createRpc } from './rpc.mjs';
import { createTables } from './tables.mjs';

const corsAllowHeaders =
  'authorization, x-client-info, apikey, content-type, content-profile, accept-profile, prefer, x-retry-count, range, x-region';

function tomlList(toml, section, key, fallback) {
  const body = new RegExp(`^\\[${section}\\]\\s*$([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(toml)?.[1] ?? '';
  const m = new RegExp(`^\\s*${key}\\s*=\\s*\\[([^\\]]*)\\]`, 'm').exec(body);
  return m ? [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : fallback;
}

function tomlNumber(toml, section, key) {
  const body = new RegExp(`^\\[${section}\\]\\s*$([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(toml)?.[1] ?? '';
  const m = new RegExp(`^\\s*${key}\\s*=\\s*([0-9]+)`, 'm').exec(body);
  return m ? Number(m[1]) : null;
}

/** The connection PostgREST would use: the authenticator role (same password locally). */
export function authenticatorUrl(dbUrl) {
  const u = new URL(dbUrl);
  if (decodeURIComponent(u.username) === 'postgres') u.username = 'authenticator';
  return u.toString();
}

function send(res, status, headers, body) {
  const h = { ...headers };
  if (body != null) h['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, h);
  res.end(body ?? undefined);
}

// Headers as [name, value] pairs, so that repeated names (Set-Cookie from
// response.headers) stay separate headers.
function sendPairs(res, status, statusText, pairs, body) {
  const flat = pairs.flat();
  if (body != null) flat.push('content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, statusText ?? reasonPhrase(status), flat);
  res.end(body ?? undefined);
}

// How long a client refused with 413 may go on uploading before its
// connection is cut.
const refusedUploadGraceMs = 5000;

// A refused body is not kept: the answer says so and the connection closes
// once it is out, the rest of the upload read and dropped meanwhile (for at
// most refusedUploadGraceMs), so the client gets the 413 rather than a reset.
function sendInputError(res, req, e, cors) {
  const tooLarge = e.status === 413;
  if (tooLarge) {
    req.resume();
    res.once('finish', () => setTimeout(() => req.socket.destroy(), refusedUploadGraceMs).unref());
  }
  sendError(res, new PgrstError(e.status, e.code, e.message, e.details, e.hint), { ...cors, ...(tooLarge ? { connection: 'close' } : {}) });
}

// The answer while a function's process is not listening (exited, restarting):
// the status and body hosted Supabase gives a function that cannot boot
// (https://supabase.com/docs/guides/functions/status-codes, error-codes).
function functionUnavailable(res, cors) {
  send(res, 503, { 'content-type': 'application/json', 'sb-error-code': 'BOOT_ERROR', ...cors },
    JSON.stringify({ code: 'BOOT_ERROR', message: 'Function failed to start (please check logs)' }));
}

function sendError(res, err, extra = {}) {
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'proxy-status': `PostgREST; error=${err.code}`,
    ...extra,
    ...err.headers,
  };
  if (err.status === 401 && !headers['www-authenticate']) {
    headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${err.message}"`;
  }
  const body = JSON.stringify(err.body());
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(err.status, err.statusText ?? reasonPhrase(err.status), headers);
  res.end(body);
}

/**
 * Starts the gateway (and, unless `functions: false`, the functions runtime).
 * Returns {url, port, functions, close()}.
 */
export async function startApi({
  dbUrl,
  repoRoot,
  keys,
  port = 0,
  host = '127.0.0.1',
  functions: withFunctions = true,
  functionDefaults = {},
  // Tests only: start just these functions, and override config.toml's verify_jwt.
  onlyFunctions,
  verifyJwtOverrides = {},
  poolSize = 10,
  log = (m) => process.stderr.write(`${m}\n`),
}) {
  const toml = readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8');
  const schemas = tomlList(toml, 'api', 'schemas', ['public', 'graphql_public']);
  const extraSearchPath = tomlList(toml, 'api', 'extra_search_path', ['public', 'extensions']);
  const maxRows = tomlNumber(toml, 'api', 'max_rows');
  // Imported once: jose would import raw bytes again on every verification.
  const secret = createSecretKey(Buffer.from(keys.jwtSecret, 'utf8'));

  const pool = createPool({ connectionString: authenticatorUrl(dbUrl), max: poolSize, log });
  const bodyBudget = createBodyBudget();
  let tables;
  const rpc = createRpc({ pool, schemas, extraSearchPath, maxRows, listenUrl: dbUrl, columnTypes: (name) => tables.columnTypes(name) });
  tables = createTables({ pool, schemas, extraSearchPath, maxRows, roleSettings: rpc.roleSettings });
  rpc.alsoReload(tables.reload);
  await rpc.reload();
  await tables.reload();
  await rpc.listen();

  const names = listFunctions(path.join(repoRoot, 'supabase/functions')).filter((n) => !onlyFunctions || onlyFunctions.includes(n));
  const verifyJwt = { ...verifyJwtSettings(toml, names), ...verifyJwtOverrides };
  let runtime = { functions: new Map(), stop: async () => undefined };
  // The RPC endpoint serves as soon as it listens; functions once their
  // workers are up. `npm start` waits for `ready` before it returns.
  let ready = false;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://gateway');
    const origin = req.headers.origin;
    const cors = origin
      ? { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit' }
      : {};
    try {
      if (url.pathname.startsWith('/rest/v1/')) {
        if (req.method === 'OPTIONS') {
          return send(res, 200, {
            'access-control-allow-origin': '*',
            'access-control-allow-methods': 'GET, POST, PATCH, DELETE, HEAD, OPTIONS',
            'access-control-allow-headers': corsAllowHeaders,
            'access-control-max-age': '86400',
          }, null);
        }
        const route = /^\/rest\/v1\/(?:(rpc)\/)?([^/]+)$/.exec(url.pathname);
        if (!route) {
          if (/^\/rest\/v1\/?$/.test(url.pathname)) throw notImplemented('the OpenAPI description at /rest/v1/');
          throw new PgrstError(404, 'PGRST125', 'Invalid path specified in request URL');
        }
        const authorization = restAuthorization(keys, req.headers);
        let claims;
        try {
          claims = await claimsFromAuthorization(authorization, secret);
        } catch (e) {
          if (e instanceof AuthError) throw new PgrstError(401, e.code, e.message);
          throw e;
        }
        const body = ['POST', 'PATCH', 'PUT'].includes(req.method) ? await readRestBody(req, res, { budget: bodyBudget }) : null;
        const headers = { ...req.headers };
        if (authorization) headers.authorization = authorization;
        const request = {
          method: req.method,
          name: strictPathSegment(route[2], route[1] ? 'The function name' : 'The relation name'),
          headers,
          query: strictSearchParams(url.search, 'The query string'),
          body,
          claims,
          path: url.pathname.slice('/rest/v1'.length),
        };
        const r = route[1] ? await rpc.call(request) : await tables.handle(request);
        return sendPairs(res, r.status, r.statusText, [...Object.entries(cors), ...r.headers], r.body);
      }

      if (url.pathname.startsWith('/functions/v1/')) {
        const name = url.pathname.slice('/functions/v1/'.length).split('/')[0];
        const fn = runtime.functions.get(name);
        if (!fn) {
          return send(res, 404, { 'content-type': 'application/json', ...cors },
            JSON.stringify({ code: 'NOT_FOUND', message: 'Requested function was not found' }));
        }
        // The platform's check sees the request as the caller sent it: no key
        // is turned into a JWT for functions (hosted does that for /rest/v1 only).
        if (verifyJwt[name] !== false && req.method !== 'OPTIONS') await functionsJwtCheck(req.headers, secret);
        if (!fn.ready) return functionUnavailable(res, cors);
        const headers = { ...req.headers, host: `127.0.0.1:${fn.port}` };
        const upstream = http.request(
          { host: '127.0.0.1', port: fn.port, method: req.method, path: url.pathname.slice('/functions/v1'.length) + url.search, headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        // The error names the function, never its process's address.
        upstream.on('error', (e) => {
          if (res.headersSent) return res.destroy();
          if (e.code === 'ECONNREFUSED') return functionUnavailable(res, cors);
          log(`gateway: ${req.method} ${url.pathname}: function ${name}: ${e.message}`);
          send(res, 502, { 'content-type': 'application/json', 'x-relay-error': 'true', ...cors },
            JSON.stringify({ msg: `function ${name} failed: its process ended the connection before answering` }));
        });
        req.pipe(upstream);
        return;
      }

      if (url.pathname === '/__local/status') {
        const functions = Object.fromEntries([...runtime.functions].map(([n, f]) => [n, { ready: f.ready, pid: f.pid, restarts: f.restarts }]));
        return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({
          pid: process.pid,
          // up, and every function process listening
          ready: ready && Object.values(functions).every((f) => f.ready),
          functions,
          rss: process.memoryUsage().rss,
          schemas,
        }));
      }
      throw new PgrstError(501, 'LOCAL501', `The local API gateway does not serve ${url.pathname}`, null,
        'It serves /rest/v1/rpc/<function> and /functions/v1/<name>; use `supabase start` for Auth, Storage, Realtime and tables.');
    } catch (e) {
      if (e instanceof GatewayError) {
        if (e.note) log(`gateway: ${req.method} ${url.pathname} refused: ${e.note}`);
        return send(res, e.status, {
          'content-type': 'application/json',
          ...cors,
          ...(e.note ? { 'x-local-gateway-note': e.note } : {}),
        }, JSON.stringify(e.body));
      }
      if (e instanceof InputError) return sendInputError(res, req, e, cors);
      if (e instanceof PgrstError) return sendError(res, e, cors);
      log(`gateway error: ${e?.stack ?? e}`);
      return sendError(res, new PgrstError(500, 'PGRSTX00', String(e?.message ?? e)), cors);
    }
  });
  server.keepAliveTimeout = 65_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  const url = `http://${host}:${actualPort}`;

  if (withFunctions && names.length) {
    try {
      runtime = await startFunctions({
        repoRoot,
        names,
        log,
        env: supabaseFunctionEnv({ url, keys, dbUrl }),
        defaults: functionDefaults,
      });
    } catch (e) {
      server.close();
      await rpc.close();
      await pool.end();
      throw e;
    }
  }
  ready = true;

  return {
    url,
    port: actualPort,
    functions: [...runtime.functions.keys()],
    async close() {
      await runtime.stop();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rpc.close();
      await pool.end();
    },
  };
}
