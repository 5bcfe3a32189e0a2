// PostgREST's table and view endpoints (`/<relation>`), the subset
// supabase-js's `.from()` uses: GET/HEAD with select (columns, aliases, casts,
// JSON paths), filters, order, limit/offset/Range and counts; POST (one row or
// many, return=minimal|representation|headers-only, upsert with on_conflict and
// resolution=merge-duplicates|ignore-duplicates, columns=, missing=default);
// PATCH and DELETE with filters. Each runs as the request's role in one
// transaction, so RLS and column grants decide as they do under PostgREST.
// Sources: PostgREST src/PostgREST/Query/QueryBuilder.hs (readPlanToQuery,
// mutatePlanToQuery), Query/SqlFragment.hs (fromJsonBodyF, locationF,
// countF), Query/Statements.hs (mainRead, mainWrite), Response.hs, MainTx.hs.
// Embedding, PUT and the rest answer a loud 501.
import { createCatalog } from './catalog.mjs';
import { PgrstError, notImplemented } from './errors.mjs';
import { binder, hasFilters, parseQuery, renderOrder, renderSelect, renderWhere } from './query.mjs';
import {
  applyResponseGucs, bodyAggregate, boundedRange, canonicalQuery, contentType, gucColumns, ident, inTransaction,
  limitOffset, negotiate, parsePrefer, preferenceApplied, rangeStatus, requestRange, requestSettings, shouldCount, singularError,
} from './request.mjs';

// Tables, views, materialized views and foreign tables of the exposed
// schemas, with their columns (type, default) and primary key, regardless of
// privileges (SchemaCache.hs tablesSqlQuery).
const catalogSql = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
       coalesce((select json_agg(json_build_object(
                          'name', a.attname,
                          'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                          'base', pg_catalog.format_type(case when t.typtype = 'd' then t.typbasetype else a.atttypid end, null),
                          'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid)) order by a.attnum)
                   from pg_catalog.pg_attribute as a
                   join pg_catalog.pg_type as t on t.oid = a.atttypid
                   left join pg_catalog.pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns,
       coalesce((select json_agg(a.attname order by array_position(i.indkey::int2[], a.attnum))
                   from pg_catalog.pg_index as i
                   join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                  where i.indrelid = c.oid and i.indisprimary), '[]') as pk
  from pg_catalog.pg_class as c
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname = any($1::text[])`;

/** `roleSettings()`: the per-role settings the RPC catalog loaded (rpc.roleSettings). */
export function createTables({ pool, schemas, extraSearchPath, roleSettings, anonRole = 'anon', maxRows = null }) {
  const cache = createCatalog(async () => {
    const { rows } = await pool.query(catalogSql, [schemas]);
    return new Map(rows.map((t) => [`${t.schema}.${t.name}`, {
      ...t,
      byName: new Map(t.columns.map((c) => [c.name, c])),
      types: new Map(t.columns.map((c) => [c.name, c.base])),
    }]));
  });
  const reload = cache.reload;

  async function find(schema, name) {
    const asked = Date.now();
    if (!cache.get()) await reload();
    let t = cache.get().get(`${schema}.${name}`);
    if (!t) {
      await cache.freshSince(asked);
      t = cache.get().get(`${schema}.${name}`);
    }
    if (!t) throw new PgrstError(404, 'PGRST205', `Could not find the table '${schema}.${name}' in the schema cache`);
    return t;
  }

  /**
   * Handles one /<relation> request: {method, name, headers, query, body, claims, path}.
   * Returns {status, headers ([name, value] pairs), body}; throws PgrstError.
   */
  async function handle(req) {
    const { method, headers } = req;
    const handler = { GET: read, HEAD: read, POST: insert, PATCH: update, DELETE: remove }[method];
    if (!handler) {
      if (method === 'PUT') throw notImplemented('PUT (single-row upsert)', 'Use POST with Prefer: resolution=merge-duplicates.');
      throw new PgrstError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
    }
    const readOnlyMethod = method === 'GET' || method === 'HEAD';
    const profileHeader = readOnlyMethod ? headers['accept-profile'] : headers['content-profile'];
    const schema = profileHeader ?? schemas[0];
    if (!schemas.includes(schema)) {
      throw new PgrstError(406, 'PGRST106', `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${schemas.join(', ')}`);
    }
    const table = await find(schema, req.name);
    const ctx = {
      req,
      table,
      rel: { sql: `${ident(table.schema)}.${ident(table.name)}`, types: table.types },
      q: parseQuery(req.query),
      prefer: parsePrefer(headers.prefer),
      media: negotiate(headers.accept),
    };
    const role = String(req.claims.role);
    const settings = requestSettings({ schema, extraSearchPath, roleSettings: roleSettings(), role, claims: req.claims, method, path: req.path, headers });
    const result = await inTransaction(pool, { readOnly: readOnlyMethod, settings, anonymous: role === anonRole },
      (query) => handler(ctx, query));
    const out = result.headers;
    if (result.hasBody) {
      out.push(['content-type', contentType(ctx.media)]);
      if (profileHeader || schemas.length > 1) out.push(['content-profile', schema]);
    }
    const gucs = applyResponseGucs(result.row, result.status, out);
    return { ...gucs, body: method === 'HEAD' || !result.hasBody ? null : result.row.body };
  }

  // GET/HEAD (Statements.mainRead, QueryBuilder.readPlanToQuery/readPlanToCountQuery).
  async function read(ctx, query) {
    const { req, rel, q, prefer, media } = ctx;
    const range = requestRange(req.method, req.headers, q);
    const b = binder();
    const where = renderWhere(rel, q, b);
    const page = `select ${renderSelect(rel, q, b)} from ${rel.sql} ${where} ${renderOrder(rel, q, b)} ${limitOffset(boundedRange(range, maxRows), b)}`;
    const counted = shouldCount(prefer);
    const countQuery = `select 1 from ${rel.sql} ${where}`;
    const countSource = prefer.count === 'estimated' && maxRows != null ? `${countQuery} limit ${maxRows + 1}` : countQuery;
    const body = bodyAggregate(media);
    const sql =
      `with pgrst_source as (${page})${counted ? `, pgrst_source_count as (${countSource})` : ''} ` +
      `select ${counted ? '(select pg_catalog.count(*) from pgrst_source_count)' : 'null::bigint'} as total_result_set, ` +
      `pg_catalog.count(_postgrest_t) as page_total, ${body}::text as body, ${gucColumns} ` +
      `from (select * from pgrst_source) as _postgrest_t`;
    const explains = prefer.count === 'planned' || prefer.count === 'estimated';
    const row = (await query(sql, b.params, { last: !media.singular && !explains })).rows[0];
    const pageTotal = Number(row.page_total);
    if (media.singular && pageTotal !== 1) throw singularError(pageTotal);
    let total = row.total_result_set === null ? null : Number(row.total_result_set);
    if (prefer.count === 'planned' || (prefer.count === 'estimated' && maxRows != null && total > maxRows)) {
      const planned = await plannedRows(query, countQuery, b.params);
      total = prefer.count === 'planned' ? planned : Math.max(total, planned);
    }
    const r = rangeStatus(range, pageTotal, total);
    return {
      row,
      status: r.status,
      hasBody: true,
      headers: [
        ['content-range', r.contentRange],
        ['content-location', `/${req.name}${canonicalQuery(req.query)}`],
        ...Object.entries(preferenceApplied(prefer, ['count', 'handling'])),
      ],
    };
  }

  // The planner's row estimate of the count query (Prefer: count=planned|estimated).
  async function plannedRows(query, countQuery, allParams) {
    const used = Math.max(0, ...[...countQuery.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const { rows } = await query(`explain (format json) ${countQuery}`, allParams.slice(0, used));
    return Number(rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  }

  // The columns a write names: columns=, or the body's keys (all objects alike).
  function payloadColumns(ctx, parsed) {
    const { table, q } = ctx;
    let names;
    if (q.columns) names = q.columns;
    else if (Array.isArray(parsed)) {
      names = parsed.length ? Object.keys(parsed[0]) : [];
      const key = [...names].sort().join('\u0000');
      if (!parsed.every((o) => o && typeof o === 'object' && !Array.isArray(o) && Object.keys(o).sort().join('\u0000') === key)) {
        throw new PgrstError(400, 'PGRST102', 'All object keys must match');
      }
    } else names = Object.keys(parsed);
    return names.map((n) => {
      const c = table.byName.get(n);
      if (!c) throw new PgrstError(400, 'PGRST204', `Could not find the '${n}' column of '${table.name}' in the schema cache`);
      return c;
    });
  }

  function parseBody(ctx, { allowArray }) {
    const type = (ctx.req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw notImplemented(`request bodies of type ${type} on tables`, 'Send application/json.');
    let parsed;
    try {
      parsed = JSON.parse(ctx.req.body && ctx.req.body.trim() ? ctx.req.body : '{}');
    } catch {
      throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
    }
    if (parsed === null || typeof parsed !== 'object' || (Array.isArray(parsed) && !allowArray)) {
      throw new PgrstError(400, 'PGRST102', 'Empty or invalid json');
    }
    return parsed;
  }

  // FROM clause reading the body as typed rows (SqlFragment.fromJsonBodyF).
  function bodySource(ctx, cols, parsed, b, { defaults }) {
    const isObject = !Array.isArray(parsed);
    const typed = cols.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
    const withDefaults = defaults && cols.some((c) => c.default !== null);
    const json = withDefaults ? 'jsonb' : 'json';
    const payload = `from (select ${b.bind(ctx.req.body && ctx.req.body.trim() ? ctx.req.body : '{}')}::${json} as json_data) as pgrst_payload, `;
    let source = 'pgrst_payload.json_data';
    let defs = '';
    if (withDefaults) {
      // Defaults come from the catalog (pg_get_expr), never from the request.
      const obj = `jsonb_build_object(${cols.filter((c) => c.default !== null).map((c) => `'${c.name.replace(/'/g, "''")}', ${c.default}`).join(', ')})`;
      defs = isObject
        ? `lateral (select ${obj} || pgrst_payload.json_data as val) as pgrst_json_defs, `
        : `lateral (select jsonb_agg(${obj} || elem) as val from jsonb_array_elements(pgrst_payload.json_data) as elem) as pgrst_json_defs, `;
      source = 'pgrst_json_defs.val';
    }
    const fn = `${json}_to_record${isObject ? '' : 'set'}`;
    const rows = cols.length
      ? `${fn}(${source}) as _(${typed})`
      : isObject ? '(values (1)) as _' : `${json}_array_elements(${source}) as _`;
    return `${payload}${defs}lateral (select ${cols.map((c) => ident(c.name)).join(', ')} from ${rows}) as pgrst_body`;
  }

  // RETURNING: what the response needs, so SELECT privilege is asked only for
  // that. `qualify` names the table's columns where the body's could clash.
  function returning(ctx, { location = false, qualify = false } = {}) {
    const { prefer, q, table } = ctx;
    const col = (c) => (qualify ? `${ctx.rel.sql}.${c}` : c);
    if (prefer.return === 'representation') {
      if (!q.select || q.select.some((s) => s.star)) return col('*');
      return [...new Set(q.select.map((s) => s.field.name))].map((c) => col(ident(c))).join(', ');
    }
    if (location && table.pk.length) return table.pk.map(ident).join(', ');
    return '1';
  }

  // The answer to PATCH and DELETE: 200 and the rows for return=representation, else 204.
  function modifiedResponse(ctx, row, contentRange, applied) {
    const representation = ctx.prefer.return === 'representation';
    return {
      row,
      status: representation ? 200 : 204,
      headers: [contentRange, ...Object.entries(preferenceApplied(ctx.prefer, applied))],
      hasBody: representation,
    };
  }

  // The statement around a write (Statements.mainWrite).
  async function write(ctx, query, mutation, b, { location = false, inserted = false }) {
    const { prefer, media, table } = ctx;
    const representation = prefer.return === 'representation';
    const body = representation ? bodyAggregate(media) : `''`;
    const select = representation ? renderSelect({ sql: 'pgrst_source', types: table.types }, ctx.q, b) : '*';
    const locationSql = location && table.pk.length
      ? `case when pg_catalog.count(_postgrest_t) = 1 then (select pg_catalog.string_agg(j.key || '=' || coalesce('eq.' || j.value, 'is.null'), '&') ` +
        `from (select pg_catalog.row_to_json(_) as r from pgrst_source as _ limit 1) as d cross join pg_catalog.json_each_text(d.r) as j ` +
        `where j.key = any(${b.bind(table.pk)}::text[])) end`
      : 'null::text';
    const sql =
      `with pgrst_source as (${mutation}) ` +
      `select pg_catalog.count(_postgrest_t) as page_total, ${locationSql} as location, ${body}::text as body, ${gucColumns}, ` +
      `${inserted ? "nullif(pg_catalog.current_setting('pgrst.inserted', true), '')::int" : 'null::int'} as inserted ` +
      `from (select ${select} from pgrst_source) as _postgrest_t`;
    const row = (await query(sql, b.params, { last: !media.singular })).rows[0];
    const n = Number(row.page_total);
    if (media.singular && n !== 1) throw singularError(n);
    return row;
  }

  const countHeader = (prefer, lower, upper, n) => ['content-range', `${lower <= upper ? `${lower}-${upper}` : '*'}/${shouldCount(prefer) ? n : '*'}`];

  // POST (QueryBuilder.mutatePlanToQuery Insert).
  async function insert(ctx, query) {
    const { rel, table, q, prefer } = ctx;
    const parsed = parseBody(ctx, { allowArray: true });
    const cols = payloadColumns(ctx, parsed);
    const b = binder();
    const conflictCols = q.onConflict ?? table.pk;
    const resolution = prefer.resolution && conflictCols.length ? prefer.resolution : null;
    const merge = resolution === 'merge-duplicates';
    const names = cols.map((c) => ident(c.name)).join(', ');
    const counter = (sign) => `pg_catalog.set_config('pgrst.inserted', (coalesce(nullif(pg_catalog.current_setting('pgrst.inserted', true), '')::int, 0) ${sign} 1)::text, true)`;
    let onConflict = '';
    if (resolution) {
      const target = `on conflict (${conflictCols.map(ident).join(', ')})`;
      onConflict = !merge || !cols.length
        ? `${target} do nothing`
        : `${target} do update set ${cols.map((c) => `${ident(c.name)} = excluded.${ident(c.name)}`).join(', ')} where ${counter('-')} <> '-1'`;
    }
    const location = prefer.return === 'headers-only';
    const mutation =
      `insert into ${rel.sql}${cols.length ? `(${names})` : ''} select ${cols.map((c) => `pgrst_body.${ident(c.name)}`).join(', ')} ` +
      `${bodySource(ctx, cols, parsed, b, { defaults: prefer.missing === 'default' })} ` +
      `${merge ? `where ${counter('+')} <> '0' ` : ''}${onConflict} returning ${returning(ctx, { location })}`;
    const row = await write(ctx, query, mutation, b, { location, inserted: merge });
    const n = Number(row.page_total);
    const headers = [countHeader(prefer, 1, 0, n)];
    if (row.location !== null) headers.unshift(['location', `/${table.name}?${row.location}`]);
    headers.push(...Object.entries(preferenceApplied(prefer, [...(resolution ? ['resolution'] : []), 'missing', 'return', 'count', 'handling'])));
    const status = merge && row.inserted !== null && row.inserted <= 0 ? 200 : 201;
    return { row, status, headers, hasBody: prefer.return === 'representation' };
  }

  // Supabase's Data API runs pg-safeupdate: UPDATE and DELETE need a WHERE clause.
  function requireFilter(ctx, verb) {
    if (!hasFilters(ctx.q)) throw new PgrstError(400, '21000', `${verb} requires a WHERE clause`);
    if (ctx.q.limit !== null || ctx.q.offset !== null || ctx.q.order.length) {
      throw notImplemented(`limit, offset and order on ${verb}`);
    }
  }

  // PATCH (QueryBuilder.mutatePlanToQuery Update).
  async function update(ctx, query) {
    const { rel, prefer } = ctx;
    const parsed = parseBody(ctx, { allowArray: false });
    requireFilter(ctx, 'UPDATE');
    const cols = payloadColumns(ctx, parsed);
    const b = binder();
    const ret = returning(ctx, { qualify: true });
    const mutation = cols.length
      ? `update ${rel.sql} set ${cols.map((c) => `${ident(c.name)} = pgrst_body.${ident(c.name)}`).join(', ')} ` +
        `${bodySource(ctx, cols, parsed, b, { defaults: prefer.missing === 'default' })} ${renderWhere(rel, ctx.q, b)} returning ${ret}`
      : `select ${ret === '1' ? 'null' : ret} from ${rel.sql} where false`;
    const row = await write(ctx, query, mutation, b, {});
    const n = Number(row.page_total);
    return modifiedResponse(ctx, row, countHeader(prefer, 0, n - 1, n), ['missing', 'return', 'count', 'handling']);
  }

  // DELETE (QueryBuilder.mutatePlanToQuery Delete).
  async function remove(ctx, query) {
    const { rel, prefer } = ctx;
    requireFilter(ctx, 'DELETE');
    const b = binder();
    const mutation = `delete from ${rel.sql} ${renderWhere(rel, ctx.q, b)} returning ${returning(ctx)}`;
    const row = await write(ctx, query, mutation, b, {});
    const n = Number(row.page_total);
    return modifiedResponse(ctx, row, countHeader(prefer, 1, 0, n), ['return', 'count', 'handling']);
  }

  /** Base types of a relation's columns by name ('schema.name'), or null when it is not a known relation. */
  const columnTypes = (qualifiedName) => cache.get()?.get(qualifiedName)?.types ?? null;

  return { handle, reload, columnTypes };
}
