// PostgREST's RPC endpoint (`/rpc/<fn>`), as PostgREST v12-v14 serves it
// (../shared/research/postgrest_supabase.md §2-§3; PostgREST src/PostgREST/
// Plan/CallPlan.hs, Query/QueryBuilder.hs callPlanToQuery, Query/Statements.hs
// mainCall): the function catalog, argument binding (json_to_record for a JSON
// body, `$n::type` for GET), overload resolution, one transaction per request
// with the role and request.* settings, and the query string (select, filters,
// order, limit/offset, counts) applied to the function's rows. Every value from
// the request is a bound parameter. docs/functions.md has the conformance table.
import { createCatalog } from './catalog.mjs';
import { listenForNotifications } from './db.mjs';
import { PgrstError, fromPgError, notImplemented } from './errors.mjs';
import { binder, parseQuery, renderOrder, renderSelect, renderWhere, shapesRows } from './query.mjs';
import {
  applyResponseGucs, bodyAggregate, boundedRange, contentType, gucColumns, ident, inTransaction, limitOffset,
  negotiate, parsePrefer, preferenceApplied, rangeStatus, requestRange, requestSettings, shouldCount, singularError,
} from './request.mjs';

export { PgrstError, fromPgError };

// Functions of the exposed schemas, as PostgREST's schema cache loads them
// (SchemaCache.hs funcsSqlQuery): prokind 'f', not trigger functions, all of
// them regardless of EXECUTE privilege; OUT/INOUT/TABLE parameters make the
// result composite; `character` and `bit` arguments are read as their varying
// forms so that GET values are not cut to one character.
const catalogSql = `
select p.oid::int as oid, n.nspname as schema, p.proname as name, p.provolatile as volatility,
       p.proretset as retset, p.prorettype = 'pg_catalog.void'::regtype as returns_void,
       (rt.typtype = 'c' or coalesce(p.proargmodes::text[] && array['o','b','t'], false)) as returns_composite,
       p.pronargs::int as nargs, p.pronargdefaults::int as ndefaults,
       (select rn.nspname || '.' || rc.relname
          from pg_catalog.pg_class as rc join pg_catalog.pg_namespace as rn on rn.oid = rc.relnamespace
         where rc.oid = rt.typrelid and rc.relkind in ('r', 'p', 'v', 'm', 'f')) as returns_relation,
       coalesce((
         select json_agg(json_build_object(
                  'name', coalesce(a.name, ''),
                  'type', case a.type
                            when 'bit'::regtype then 'bit varying'
                            when 'bit[]'::regtype then 'bit varying[]'
                            when 'character'::regtype then 'character varying'
                            when 'character[]'::regtype then 'character varying[]'
                            else pg_catalog.format_type(a.type, null) end,
                  'variadic', a.mode = 'v') order by a.ord)
           from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                       coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])),
                       coalesce(p.proargnames, array_fill(''::text, array[coalesce(cardinality(p.proallargtypes), p.pronargs::int)])))
                with ordinality as a(type, mode, name, ord)
          where a.mode in ('i', 'b', 'v')), '[]') as args
  from pg_catalog.pg_proc as p
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
  join pg_catalog.pg_type as rt on rt.oid = p.prorettype
 where p.prokind = 'f' and p.prorettype <> 'pg_catalog.trigger'::regtype and n.nspname = any($1::text[])`;

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

// Query-string arguments by name, in order (several only for a VARIADIC parameter).
function groupArgs(pairs) {
  const args = new Map();
  for (const [k, v] of pairs) args.set(k, [...(args.get(k) ?? []), v]);
  return args;
}

/**
 * `columnTypes('schema.relation')`: the base types of a relation's columns
 * (tables.columnTypes), for a function that returns a table's rows.
 */
export function createRpc({
  pool, schemas, extraSearchPath = ['public', 'extensions'], anonRole = 'anon', maxRows = null, listenUrl, columnTypes = () => null,
}) {
  let roleSettings = new Map();

  // The functions by "schema.name" (overloads in a list), and the per-role settings.
  const cache = createCatalog(async () => {
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
    roleSettings = rs;
    return next;
  });
  const reload = cache.reload;

  // PostgREST reloads its schema cache on NOTIFY pgrst (Supabase's event
  // triggers send it on DDL). We listen too; a function the cache does not
  // know also waits for a fresh load (catalog.mjs), since the local baseline
  // has no event triggers.
  let listener = null;
  const alsoReloads = [];
  async function listen() {
    if (!listenUrl) return;
    const reloadAll = () => {
      reload().catch(() => undefined);
      for (const other of alsoReloads) other().catch(() => undefined);
    };
    listener = await listenForNotifications({
      url: listenUrl,
      channel: 'pgrst',
      onNotification: (payload) => {
        if (payload === '' || /reload schema/.test(payload)) reloadAll();
      },
      // reconnected after a lost connection: changes made meanwhile were not notified
      onReconnect: reloadAll,
    });
  }

  // PostgREST answers 503 (PGRST000/PGRST002) while it cannot reach the database.
  const reloadOr503 = () => reload().catch((e) => {
    throw fromPgError(e, false);
  });

  async function resolve(schema, name, keys, { hasBody, isJsonBody }) {
    const asked = Date.now();
    if (!cache.get()) await reloadOr503();
    let candidates = cache.get().get(`${schema}.${name}`);
    if (!candidates) {
      await cache.freshSince(asked).catch((e) => {
        throw fromPgError(e, false);
      });
      candidates = cache.get().get(`${schema}.${name}`);
    }
    const catalog = cache.get();
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

  // The FROM item that calls the function (QueryBuilder.callPlanToQuery).
  function callSource(f, { mode, keys, args }, b) {
    const target = `${ident(f.schema)}.${ident(f.name)}`;
    const scalar = !f.returns_composite;
    const wrap = (call, from = '') =>
      scalar ? `${from}(select ${call} as pgrst_scalar) as pgrst_call` : `${from}${call} as pgrst_call`;
    if (mode === 'single-json') return wrap(`${target}(${b.bind(args)}::${f.args[0].type})`, 'from ');
    if (mode === 'json') {
      const cols = f.args.filter((a) => keys.has(a.name));
      const payload =
        `from (select ${b.bind(args)}::json as json_data) as pgrst_payload, ` +
        `lateral (select ${cols.map((a) => ident(a.name)).join(', ') || '1'} from json_to_record(pgrst_payload.json_data) ` +
        `as _(${cols.map((a) => `${ident(a.name)} ${a.type}`).join(', ') || '"_" int'}) limit 1) as pgrst_body, lateral `;
      const named = cols.map((a) => `${a.variadic ? 'variadic ' : ''}${ident(a.name)} := pgrst_body.${ident(a.name)}`);
      return wrap(`${target}(${named.join(', ')})`, payload);
    }
    // GET / form: one value per argument (the last one), several for VARIADIC (CallPlan.toRpcParams).
    const named = f.args.filter((a) => args.has(a.name)).map((a) => {
      const values = args.get(a.name);
      const value = a.variadic ? b.bind(values) : b.bind(values[values.length - 1]);
      return `${a.variadic ? 'variadic ' : ''}${ident(a.name)} := ${value}::${a.type}`;
    });
    return wrap(`${target}(${named.join(', ')})`, 'from ');
  }

  // The main statement (Statements.mainCall): the call as pgrst_source, the
  // query string applied to its rows, the page, the optional total, the body.
  function mainStatement(f, call, q, range, { count, media }) {
    const b = binder();
    const scalar = !f.returns_composite;
    const source = callSource(f, call, b);
    const rel = { sql: 'pgrst_source', types: f.returns_relation ? columnTypes(f.returns_relation) : null };
    const where = renderWhere(rel, q, b);
    const page =
      `select ${scalar ? 'pgrst_source.pgrst_scalar' : renderSelect(rel, q, b)} from pgrst_source ` +
      `${where} ${renderOrder(rel, q, b)} ${limitOffset(range, b)}`;
    const body = bodyAggregate(media, { column: scalar ? 'pgrst_scalar' : null, single: !f.retset });
    const counted = count ? `, pgrst_source_count as (select 1 from pgrst_source ${where})` : '';
    const sql =
      `with pgrst_source as (select ${scalar ? 'pgrst_call.pgrst_scalar' : 'pgrst_call.*'} ${source})${counted} ` +
      `select ${count ? '(select pg_catalog.count(*) from pgrst_source_count)' : 'null::bigint'} as total_result_set, ` +
      `${f.retset ? 'pg_catalog.count(_postgrest_t)' : '1'} as page_total, ${body}::text as body, ${gucColumns} ` +
      `from (${page}) as _postgrest_t`;
    return { sql, params: b.params };
  }

  // Arguments and query from the request: a JSON body's keys, or the query
  // string (GET/HEAD) or a form body (POST), whose non-operator values are arguments.
  function readArguments(method, headers, query, body) {
    const contentType = (headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
    if (method !== 'POST') {
      const q = parseQuery(query, { rpcRead: true });
      return { q, call: { mode: 'query', args: groupArgs(q.args) } };
    }
    const q = parseQuery(query);
    if (contentType === 'application/x-www-form-urlencoded') {
      return { q, call: { mode: 'query', args: groupArgs(new URLSearchParams(body ?? '')) } };
    }
    if (contentType !== 'application/json') {
      throw new PgrstError(415, 'PGRST107', `None of these media types are available: ${contentType}`);
    }
    const text = body && body.trim() ? body : '{}';
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
    }
    if (Array.isArray(parsed)) throw notImplemented('array bodies on RPC (bulk calls with json_to_recordset)', 'Call the function once per object.');
    if (parsed === null || typeof parsed !== 'object') throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
    return { q, call: { mode: 'json', keys: new Set(Object.keys(parsed)), args: text } };
  }

  /**
   * Handles one /rpc/<name> request. `req`: {method, name, headers (lower-case),
   * query (URLSearchParams), body (string|null), claims, path}.
   * Returns {status, headers ([name, value] pairs), body (string|null)}; throws PgrstError.
   */
  async function call(req) {
    const { method, headers } = req;
    if (!['GET', 'HEAD', 'POST'].includes(method)) {
      throw new PgrstError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
    }
    const readOnlyMethod = method !== 'POST';
    const profileHeader = readOnlyMethod ? headers['accept-profile'] : headers['content-profile'];
    const schema = profileHeader ?? schemas[0];
    if (!schemas.includes(schema)) {
      throw new PgrstError(406, 'PGRST106', `Invalid schema: ${schema}`, null,
        `Only the following schemas are exposed: ${schemas.join(', ')}`);
    }
    const media = negotiate(headers.accept);
    const prefer = parsePrefer(headers.prefer);
    const { q, call: callArgs } = readArguments(method, headers, req.query, req.body);
    const keys = callArgs.mode === 'json' ? callArgs.keys : new Set(callArgs.args.keys());
    const f = await resolve(schema, req.name, keys, { hasBody: method === 'POST' && callArgs.mode === 'json', isJsonBody: callArgs.mode === 'json' });
    if (callArgs.mode === 'json' && f.args.length === 1 && f.args[0].name === '') callArgs.mode = 'single-json';
    if (!f.returns_composite && shapesRows(q)) {
      throw notImplemented('select, filters and order on the result of a function that returns scalars');
    }

    const range = requestRange(method, headers, q);
    const count = shouldCount(prefer);
    const { sql, params } = mainStatement(f, callArgs, q, boundedRange(range, maxRows), { count, media });
    const role = String(req.claims.role);
    const settings = requestSettings({
      schema, extraSearchPath, roleSettings, role, claims: req.claims, method, path: req.path, headers,
    });
    const row = await inTransaction(pool, { readOnly: readOnlyMethod || f.volatility !== 'v', settings, anonymous: role === anonRole },
      async (query) => {
        const r = (await query(sql, params, { last: !media.singular })).rows[0];
        if (media.singular && Number(r.page_total) !== 1) throw singularError(Number(r.page_total));
        return r;
      });

    const total = row.total_result_set === null ? null : Number(row.total_result_set);
    const out = [];
    let status;
    let responseBody = method === 'HEAD' ? null : row.body;
    if (f.returns_void) {
      status = 204;
      responseBody = null;
      out.push(['content-range', rangeStatus(range, 1, null).contentRange]);
    } else {
      const r = rangeStatus(range, Number(row.page_total), total);
      status = r.status;
      out.push(['content-range', r.contentRange], ['content-type', contentType(media)]);
      if (profileHeader || schemas.length > 1) out.push(['content-profile', schema]);
    }
    out.push(...Object.entries(preferenceApplied(prefer, ['count', 'handling'])));
    return { ...applyResponseGucs(row, status, out), body: responseBody };
  }

  return {
    call,
    reload,
    roleSettings: () => roleSettings,
    /** Also reload `other` when PostgREST would reload its schema cache. */
    alsoReload(other) {
      alsoReloads.push(other);
    },
    listen,
    async close() {
      await listener?.end().catch(() => undefined);
    },
  };
}

