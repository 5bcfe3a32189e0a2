// PostgREST's RPC endpoint (`/rpc/<fn>`), as ../shared/research/postgrest_supabase.md
// §2-§3 describes PostgREST v12-v14: the function catalog, argument binding
// (json_to_record for POST, `$n::type` for GET), overload resolution, one
// transaction per request with the role and request.* settings, response
// shapes and the error mapping. docs/functions.md has the conformance table.
import pg from 'pg';
import { httpStatusForSqlState } from '../../shared/postgrest-status.js';
import { listenForNotifications } from './db.mjs';

export class PgrstError extends Error {
  constructor(status, code, message, details = null, hint = null, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.hint = hint;
    this.headers = headers;
  }

  body() {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint };
  }
}

const ident = (s) => `"${String(s).replace(/"/g, '""')}"`;
const literal = (s) => pg.Client.prototype.escapeLiteral(String(s));

// Functions of the exposed schemas, as PostgREST's schema cache loads them
// (SchemaCache.hs funcsSqlQuery): prokind 'f', all of them regardless of
// EXECUTE privilege.
const catalogSql = `
select p.oid::int as oid, n.nspname as schema, p.proname as name, p.provolatile as volatility,
       p.proretset as retset, p.prorettype = 'pg_catalog.void'::regtype as returns_void,
       (rt.typtype = 'c' or (p.prorettype = 'pg_catalog.record'::regtype
                             and coalesce(p.proargmodes::text[] && array['o','b','t'], false))) as returns_composite,
       p.pronargs::int as nargs, p.pronargdefaults::int as ndefaults,
       coalesce((
         select json_agg(json_build_object(
                  'name', coalesce(a.name, ''),
                  'type', pg_catalog.format_type(a.type, null),
                  'variadic', a.mode = 'v') order by a.ord)
           from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                       coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])),
                       coalesce(p.proargnames, array_fill(''::text, array[coalesce(cardinality(p.proallargtypes), p.pronargs::int)])))
                with ordinality as a(type, mode, name, ord)
          where a.mode in ('i', 'b', 'v')), '[]') as args
  from pg_catalog.pg_proc as p
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
  join pg_catalog.pg_type as rt on rt.oid = p.prorettype
 where p.prokind = 'f' and n.nspname = any($1::text[])`;

const roleSettingsSql = `
select r.rolname as role, s.setconfig as settings
  from pg_catalog.pg_db_role_setting as s
  join pg_catalog.pg_roles as r on r.oid = s.setrole
 where s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
 order by s.setdatabase`;

// Role settings PostgREST applies per request that the authenticator may set.
const perRequestRoleSettings = new Set(['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'work_mem']);

// Unnamed single-parameter fallback types (§2.2): only json/jsonb for application/json.
const jsonTypes = new Set(['json', 'jsonb']);

const filterOperator =
  /^(not\.)?(eq|neq|gt|gte|lt|lte|like|ilike|match|imatch|is|isdistinct|in|cs|cd|ov|sl|sr|nxr|nxl|adj|fts|plfts|phfts|wfts|any|all)[.(]/;
const reservedQueryKeys = /^(select|columns|on_conflict)$|(^|\.)(order|limit|offset|and|or)$/;

export function createRpc({ pool, schemas, extraSearchPath = ['public', 'extensions'], anonRole = 'anon', listenUrl }) {
  let catalog = null; // Map "schema.name" -> [fn]
  let roleSettings = new Map();
  let loading = null;
  let lastReload = 0;

  async function load() {
    const [{ rows }, settings] = await Promise.all([pool.query(catalogSql, [schemas]), pool.query(roleSettingsSql)]);
    const next = new Map();
    for (const f of rows) {
      const unnamed = f.args.filter((a) => a.name === '').length;
      // Not callable through PostgREST: several unnamed args, or one that is not json-like.
      if (unnamed > 1 || (unnamed === 1 && (f.args.length > 1 || !jsonTypes.has(f.args[0].type)))) continue;
      const key = `${f.schema}.${f.name}`;
      if (!next.has(key)) next.set(key, []);
      next.get(key).push(f);
    }
    const rs = new Map();
    for (const { role, settings: list } of settings.rows) {
      const kv = rs.get(role) ?? new Map();
      for (const s of list ?? []) {
        const i = s.indexOf('=');
        const k = s.slice(0, i);
        if (perRequestRoleSettings.has(k)) kv.set(k, s.slice(i + 1));
      }
      rs.set(role, kv);
    }
    catalog = next;
    roleSettings = rs;
    lastReload = Date.now();
  }

  function reload() {
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  }

  // PostgREST reloads its schema cache on NOTIFY pgrst (Supabase's event
  // triggers send it on DDL). We listen too, and also reload when a function
  // is not found, at most once a second, since the local baseline has no
  // event triggers.
  let listener = null;
  async function listen() {
    if (!listenUrl) return;
    listener = await listenForNotifications({
      url: listenUrl,
      channel: 'pgrst',
      onNotification: (payload) => {
        if (payload === '' || /reload schema/.test(payload)) reload().catch(() => undefined);
      },
      // reconnected after a lost connection: changes made meanwhile were not notified
      onReconnect: () => reload().catch(() => undefined),
    });
  }

  // PostgREST answers 503 (PGRST000/PGRST002) while it cannot reach the database.
  const reloadOr503 = () => reload().catch((e) => {
    throw fromPgError(e, false);
  });

  async function resolve(schema, name, keys, { hasBody, isJsonBody }) {
    if (!catalog) await reloadOr503();
    let candidates = catalog.get(`${schema}.${name}`);
    if (!candidates && Date.now() - lastReload > 1000) {
      await reloadOr503();
      candidates = catalog.get(`${schema}.${name}`);
    }
    const sorted = [...keys].sort();
    const notFound = () => {
      const all = [...catalog.keys()].filter((k) => k.startsWith(`${schema}.`)).map((k) => k.slice(schema.length + 1));
      const close = all.find((n) => n !== name && (n.includes(name) || name.includes(n)));
      return new PgrstError(
        404,
        'PGRST202',
        sorted.length
          ? `Could not find the function ${schema}.${name}(${sorted.join(', ')}) in the schema cache`
          : `Could not find the function ${schema}.${name} without parameters in the schema cache`,
        `Searched for the function ${schema}.${name} ${sorted.length ? `with parameter${sorted.length === 1 ? '' : 's'} ${sorted.join(', ')}` : 'without parameters'}` +
          `${hasBody ? ' or with a single unnamed json/jsonb parameter' : ''}, but no matches were found in the schema cache.`,
        close ? `Perhaps you meant to call the function ${schema}.${close}` : null,
      );
    };
    if (!candidates) throw notFound();

    const matches = [];
    const fallbacks = [];
    for (const f of candidates) {
      const named = f.args.filter((a) => a.name !== '');
      if (f.args.length === 1 && f.args[0].name === '') {
        if (isJsonBody && hasBody) fallbacks.push(f);
        continue;
      }
      const required = named.slice(0, named.length - f.ndefaults).map((a) => a.name);
      const optional = new Set(named.slice(named.length - f.ndefaults).map((a) => a.name));
      const k = new Set(keys);
      const ok =
        required.every((r) => k.has(r)) && [...k].every((x) => required.includes(x) || optional.has(x));
      if (ok) matches.push(f);
    }
    const pick = matches.length ? matches : fallbacks;
    if (pick.length === 1) return pick[0];
    if (pick.length > 1) {
      throw new PgrstError(
        300,
        'PGRST203',
        `Could not choose the best candidate function between: ${pick
          .map((f) => `${schema}.${name}(${f.args.map((a) => `${a.name ? `${a.name} => ` : ''}${a.type}`).join(', ')})`)
          .join(', ')}`,
        null,
        'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
      );
    }
    throw notFound();
  }

  function argSql(f, keys, source) {
    // named notation, only the supplied keys (omitted ones take their defaults)
    return f.args
      .filter((a) => keys.has(a.name))
      .map((a) => `${a.variadic ? 'VARIADIC ' : ''}${ident(a.name)} := ${source(a)}`)
      .join(', ');
  }

  // Builds the main statement. Everything is inlined as escaped literals so
  // that begin, settings, call and commit go to the server as one round trip.
  function mainQuery(f, { mode, keys, body, query }) {
    const target = `${ident(f.schema)}.${ident(f.name)}`;
    let from = '';
    let call;
    if (mode === 'single-json') {
      call = `${target}(${literal(body)}::${f.args[0].type})`;
    } else if (mode === 'json') {
      const cols = f.args.filter((a) => keys.has(a.name));
      const widen = (t) => t.replace(/^character\b(?! varying)/, 'character varying').replace(/^bit\b(?! varying)/, 'bit varying');
      from =
        `from (select ${literal(body)}::json as json_data) as pgrst_payload, ` +
        `lateral (select ${cols.map((a) => ident(a.name)).join(', ') || '1'} from json_to_record(pgrst_payload.json_data) ` +
        `as _(${cols.map((a) => `${ident(a.name)} ${widen(a.type)}`).join(', ') || '"_" int'}) limit 1) as pgrst_body`;
      call = `${target}(${argSql(f, keys, (a) => `pgrst_body.${ident(a.name)}`)})`;
    } else {
      call = `${target}(${argSql(f, keys, (a) => `${literal(query.get(a.name))}::${a.type}`)})`;
    }
    // FROM clause: the payload and body relations (POST), then the call.
    const fromWith = (rel) => (from ? `${from}, lateral ${rel}` : `from ${rel}`);
    const guc =
      `nullif(current_setting('response.headers', true), '') as response_headers, ` +
      `nullif(current_setting('response.status', true), '') as response_status`;
    if (f.returns_void) {
      // count(pgrst_call.*) references the call, so the planner cannot drop it.
      return `select null::text as body, count(pgrst_call.*) as n, ${guc} ${fromWith(`(select ${call} as pgrst_void) as pgrst_call`)}`;
    }
    if (f.returns_composite) {
      return f.retset
        ? `select coalesce(json_agg(pgrst_call), '[]')::text as body, count(*) as n, ${guc} ${fromWith(`${call} as pgrst_call`)}`
        : `select (json_agg(pgrst_call) -> 0)::text as body, count(*) as n, ${guc} ${fromWith(`${call} as pgrst_call`)}`;
    }
    return f.retset
      ? `select coalesce(json_agg(pgrst_call.pgrst_scalar), '[]')::text as body, count(*) as n, ${guc} ${fromWith(`(select ${call} as pgrst_scalar) as pgrst_call`)}`
      : `select coalesce(json_agg(pgrst_call.pgrst_scalar) -> 0, 'null')::text as body, 1 as n, ${guc} ${fromWith(`(select ${call} as pgrst_scalar) as pgrst_call`)}`;
  }

  /**
   * Handles one /rpc/<name> request. `req`: {method, name, headers (lower-case),
   * query (URLSearchParams), body (string|null), claims, path}.
   * Returns {status, headers, body (string|null)}; throws PgrstError.
   */
  async function call(req) {
    const { method, headers } = req;
    if (!['GET', 'HEAD', 'POST'].includes(method)) {
      throw new PgrstError(405, 'PGRST101', 'Only GET, HEAD, POST and OPTIONS are allowed on RPC');
    }
    const readOnlyMethod = method !== 'POST';
    const profileHeader = readOnlyMethod ? headers['accept-profile'] : headers['content-profile'];
    const schema = profileHeader ?? schemas[0];
    if (!schemas.includes(schema)) {
      throw new PgrstError(406, 'PGRST106', `Invalid schema: ${schema}`, null,
        `Only the following schemas are exposed: ${schemas.join(', ')}`);
    }
    const singular = acceptsSingular(headers.accept);

    let keys;
    let mode;
    let body = null;
    let query = req.query;
    const contentType = (headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
    if (method === 'POST' && contentType === 'application/x-www-form-urlencoded') {
      query = new URLSearchParams(req.body ?? '');
    }
    if (method === 'POST' && contentType !== 'application/x-www-form-urlencoded') {
      if (contentType !== 'application/json') {
        throw new PgrstError(415, 'PGRST107', `None of these media types are available: ${contentType}`);
      }
      const text = req.body && req.body.trim() ? req.body : '{}';
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
      }
      if (Array.isArray(parsed)) {
        throw new PgrstError(400, 'PGRST102', 'The local API gateway does not support array bodies (bulk RPC calls)',
          null, 'Call the function once per object, or use `supabase start` for the full PostgREST.');
      }
      if (parsed === null || typeof parsed !== 'object') {
        throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
      }
      keys = new Set(Object.keys(parsed));
      body = text;
      mode = 'json';
    } else {
      keys = new Set();
      for (const [k, v] of query) {
        if (reservedQueryKeys.test(k) || filterOperator.test(v)) {
          throw new PgrstError(400, 'PGRST100', `The local API gateway does not support "${k}" on RPC calls`, null,
            'Filters, select, order and limit on function results need the full PostgREST (`supabase start`).');
        }
        keys.add(k);
      }
      mode = 'query';
    }

    const f = await resolve(schema, req.name, keys, { hasBody: method === 'POST' && mode === 'json', isJsonBody: mode === 'json' });
    if (mode === 'json' && f.args.length === 1 && f.args[0].name === '') mode = 'single-json';

    const readOnly = readOnlyMethod || f.volatility !== 'v';
    const role = String(req.claims.role);
    const claims = { ...req.claims, role };
    const requestHeaders = { ...headers };
    delete requestHeaders.cookie;
    const cookies = Object.fromEntries(
      (headers.cookie ?? '').split(';').map((c) => c.trim()).filter(Boolean).map((c) => {
        const i = c.indexOf('=');
        return [c.slice(0, i), c.slice(i + 1)];
      }),
    );
    const settings = [
      ['search_path', [schema, ...extraSearchPath.filter((s) => s !== schema)].map(ident).join(', ')],
      ...(roleSettings.get(role) ?? new Map()),
      ['role', role],
      ['request.jwt.claims', JSON.stringify(claims)],
      ['request.method', method],
      ['request.path', req.path],
      ['request.headers', JSON.stringify(requestHeaders)],
      ['request.cookies', JSON.stringify(cookies)],
    ];
    const sql =
      `begin isolation level read committed ${readOnly ? 'read only' : 'read write'};\n` +
      `select ${settings.map(([k, v]) => `set_config(${literal(k)}, ${literal(v)}, true)`).join(', ')};\n` +
      `${mainQuery(f, { mode, keys, body, query })};\ncommit;`;

    let client;
    try {
      client = await pool.connect();
    } catch (e) {
      throw fromPgError(e, role === anonRole);
    }
    let results;
    try {
      results = await client.query(sql);
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      client.release();
      throw fromPgError(e, role === anonRole);
    }
    client.release();
    const row = results[2].rows[0];
    const n = Number(row.n);

    const out = { 'content-type': 'application/json; charset=utf-8' };
    if (profileHeader || schemas.length > 1) out['content-profile'] = schema;
    let status = 200;
    let responseBody = row.body;
    if (f.returns_void) {
      status = 204;
      responseBody = null;
      delete out['content-type'];
    } else {
      out['content-range'] = n > 0 ? `0-${n - 1}/*` : '*/*';
      if (singular) {
        if (n !== 1) {
          throw new PgrstError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${n} rows`);
        }
        out['content-type'] = 'application/vnd.pgrst.object+json; charset=utf-8';
        if (f.retset) responseBody = JSON.stringify(JSON.parse(row.body)[0]);
      }
    }
    if (row.response_status !== null) {
      const s = Number(row.response_status);
      if (!Number.isInteger(s) || s < 100 || s > 599) {
        throw new PgrstError(500, 'PGRST112', 'Invalid response.status', `${row.response_status} is not a valid status code`);
      }
      status = s;
    }
    if (row.response_headers !== null) {
      let parsed;
      try {
        parsed = JSON.parse(row.response_headers);
        if (!Array.isArray(parsed) || !parsed.every((h) => h && typeof h === 'object' && Object.keys(h).length === 1 && typeof Object.values(h)[0] === 'string')) {
          throw new Error('shape');
        }
      } catch {
        throw new PgrstError(500, 'PGRST111', 'Invalid response.headers', `${row.response_headers} is not a JSON array of single-key objects with string values`);
      }
      for (const h of parsed) {
        const [k, v] = Object.entries(h)[0];
        out[k.toLowerCase()] = v;
      }
    }
    return { status, headers: out, body: method === 'HEAD' ? null : responseBody };
  }

  return {
    call,
    reload,
    listen,
    async close() {
      await listener?.end().catch(() => undefined);
    },
  };
}

function acceptsSingular(accept) {
  if (!accept) return false;
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  if (types.includes('application/vnd.pgrst.object+json') || types.includes('application/vnd.pgrst.object')) return true;
  const ok = types.some((t) => t === '*/*' || t === 'application/*' || t === 'application/json' || t === 'application/vnd.pgrst.array+json');
  if (!ok) throw new PgrstError(406, 'PGRST107', `None of these media types are available: ${types.join(', ')}`);
  return false;
}

/** A PostgreSQL error as PostgREST reports it: its status, and {code,message,details,hint}. */
export function fromPgError(e, anonymous) {
  // Node's network errors have codes too (ECONNREFUSED): only a SQLSTATE is a database error.
  if (!e || typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) {
    return new PgrstError(503, 'PGRST000', `Database connection error: ${e?.message ?? e}`);
  }
  if (e.code === 'PGRST') return fromPgrstRaise(e);
  const status = httpStatusForSqlState(e.code, e.message, anonymous);
  const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return new PgrstError(status, e.code, e.message, e.detail ?? null, e.hint ?? null, headers);
}

// RAISE SQLSTATE 'PGRST' USING message = '{"code":..,"message":..}', detail = '{"status":..,"headers":{..}}'
function fromPgrstRaise(e) {
  let msg;
  let det;
  try {
    msg = JSON.parse(e.message);
    if (typeof msg?.code !== 'string' || typeof msg?.message !== 'string') throw new Error();
  } catch {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      `Invalid JSON value for MESSAGE: '${e.message}'`, 'MESSAGE must be a JSON object with obligatory keys: \'code\', \'message\' and optional keys: \'details\', \'hint\'.');
  }
  if (e.detail == null) {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      'DETAIL is missing in the RAISE statement', 'DETAIL must be a JSON object with obligatory keys: \'status\', \'headers\' and optional key: \'status_text\'.');
  }
  try {
    det = JSON.parse(e.detail);
    if (!Number.isInteger(det?.status) || typeof det?.headers !== 'object' || det.headers === null) throw new Error();
  } catch {
    return new PgrstError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      `Invalid JSON value for DETAIL: '${e.detail}'`, 'DETAIL must be a JSON object with obligatory keys: \'status\', \'headers\' and optional key: \'status_text\'.');
  }
  const headers = Object.fromEntries(Object.entries(det.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const err = new PgrstError(det.status, msg.code, msg.message, msg.details ?? null, msg.hint ?? null, headers);
  err.statusText = det.status_text;
  return err;
}
