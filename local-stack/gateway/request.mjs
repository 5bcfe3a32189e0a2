// What PostgREST does around every Data API statement, shared by the RPC and
// table endpoints: the Prefer header, the Range header and limit/offset (with
// max_rows), content negotiation for .single(), the per-request transaction
// with the role and request.* settings, Content-Range and status, and the
// response.status / response.headers GUCs.
// Sources: PostgREST src/PostgREST/ApiRequest/Preferences.hs, RangeQuery.hs,
// ApiRequest.hs (getRanges), MainTx.hs, Response.hs, Query/PreQuery.hs.
import { createHash } from 'node:crypto';
import { PgrstError, fromPgError, notImplemented } from './errors.mjs';

export const ident = (s) => `"${String(s).replace(/"/g, '""')}"`;

// ---------------------------------------------------------------------------
// Prefer
// ---------------------------------------------------------------------------
const preferValues = {
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  return: ['representation', 'minimal', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
};

/**
 * Prefer headers, comma-separated and repeatable; the first recognised value
 * of each kind wins. `tx=` is ignored as Supabase's PostgREST does (no
 * db-tx-end override); `timezone=` and `max-affected=` are refused loudly.
 */
export function parsePrefer(headerValue) {
  const prefs = (Array.isArray(headerValue) ? headerValue.join(',') : headerValue ?? '')
    .split(',').map((p) => p.trim()).filter(Boolean);
  const out = { invalid: [] };
  for (const p of prefs) {
    const i = p.indexOf('=');
    const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
    if (preferValues[k]?.includes(v)) out[k] ??= v;
    else if (k === 'tx' && (v === 'commit' || v === 'rollback')) continue;
    else if (k === 'timezone') throw notImplemented('`Prefer: timezone=`');
    else if (k === 'max-affected') throw notImplemented('`Prefer: max-affected=`');
    else out.invalid.push(p);
  }
  if (out.handling === 'strict' && out.invalid.length) {
    throw new PgrstError(400, 'PGRST122', 'Invalid preferences given with handling=strict',
      `Invalid preferences: ${out.invalid.join(', ')}`);
  }
  return out;
}

/** Preference-Applied, listing what was honoured, in PostgREST's order. */
export function preferenceApplied(prefer, kinds) {
  const order = ['resolution', 'missing', 'return', 'count', 'handling'];
  const vals = order.filter((k) => kinds.includes(k) && prefer[k]).map((k) => `${k}=${prefer[k]}`);
  return vals.length ? { 'preference-applied': vals.join(', ') } : {};
}

export const shouldCount = (prefer) => prefer.count === 'exact' || prefer.count === 'estimated';

// ---------------------------------------------------------------------------
// Ranges: [offset, offset + limit - 1]; limit null = all rows.
// ---------------------------------------------------------------------------
const intersect = (a, b) => {
  const lower = Math.max(a.lower, b.lower);
  const upper = Math.min(a.upper, b.upper);
  return { lower, upper };
};
const allRange = { lower: 0, upper: Infinity };

function headerRange(value) {
  const m = /^([0-9]+)-([0-9]*)$/.exec(value ?? '');
  if (!m) return allRange;
  return { lower: Number(m[1]), upper: m[2] === '' ? Infinity : Number(m[2]) };
}

/**
 * The requested range (ApiRequest.getRanges): the Range header (GET only,
 * RFC 9110) intersected with limit/offset; limit=0 stands alone. An empty
 * range other than limit=0 is 416 PGRST103.
 */
export function requestRange(method, headers, q) {
  const header = method === 'GET' ? headerRange(headers.range) : allRange;
  const offset = q.offset ?? 0;
  const limitRange = q.limit === null ? { lower: offset, upper: Infinity } : { lower: offset, upper: offset + q.limit - 1 };
  if (q.limit === 0) return { lower: 0, upper: -1, limitZero: true };
  const r = intersect(header, limitRange);
  if (r.upper < r.lower) {
    const lowerGtUpper = header.upper < header.lower;
    throw new PgrstError(416, 'PGRST103', 'Requested range not satisfiable',
      lowerGtUpper
        ? 'The lower boundary must be lower than or equal to the upper boundary in the Range header.'
        : 'Limit should be greater than or equal to zero.');
  }
  return r;
}

/** The range the statement reads: the request's, cut to max_rows (restrictRange). */
export function boundedRange(range, maxRows) {
  if (range.limitZero || maxRows == null) return range;
  return intersect(range, { lower: 0, upper: range.lower + maxRows - 1 });
}

/** `limit … offset …` for a range ('' when it is all rows from 0). */
export function limitOffset(range, b) {
  if (range.lower === 0 && range.upper === Infinity) return '';
  const limit = range.upper === Infinity ? 'all' : b.bind(String(range.upper - range.lower + 1));
  return `limit ${limit} offset ${b.bind(String(range.lower))}`;
}

/** Status and Content-Range of a read (RangeQuery.rangeStatusHeader); 416 past the end. */
export function rangeStatus(range, pageTotal, total) {
  const lower = range.lower;
  const upper = lower + pageTotal - 1;
  const rangeText = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  const contentRange = `${rangeText}/${total ?? '*'}`;
  if (total == null) return { status: 200, contentRange };
  if (lower > total) {
    const err = new PgrstError(416, 'PGRST103', 'Requested range not satisfiable',
      `An offset of ${lower} was requested, but there are only ${total} rows.`);
    err.headers = { 'content-range': contentRange };
    throw err;
  }
  return { status: 1 + upper - lower < total ? 206 : 200, contentRange };
}

// ---------------------------------------------------------------------------
// Content negotiation
// ---------------------------------------------------------------------------
/**
 * The response media type from Accept (MediaType.decodeMediaType): one object
 * for `.single()` (`vnd.pgrst.object+json`), an array otherwise; the
 * `nulls=stripped` parameter (supabase-js `.stripNulls()`) drops null fields.
 * Types PostgREST serves and the gateway does not (CSV, GeoJSON, plans) are a
 * loud 501; any other is 406 PGRST107.
 */
export function negotiate(accept) {
  if (!accept) return { singular: false, stripNulls: false };
  const types = accept.split(',').map((t) => {
    const [type, ...params] = t.split(';').map((x) => x.trim());
    const nulls = params.map((p) => p.split('=')).find(([k]) => k.trim().toLowerCase() === 'nulls')?.[1]?.trim();
    return { type: type.toLowerCase(), stripNulls: nulls === 'stripped' };
  });
  const object = types.find((t) => t.type === 'application/vnd.pgrst.object+json' || t.type === 'application/vnd.pgrst.object');
  if (object) return { singular: true, stripNulls: object.stripNulls };
  const array = types.find((t) => t.type === 'application/vnd.pgrst.array+json' || t.type === 'application/vnd.pgrst.array');
  if (array) return { singular: false, stripNulls: array.stripNulls };
  if (types.some((t) => ['*/*', 'application/*', 'application/json'].includes(t.type))) return { singular: false, stripNulls: false };
  const servedByPostgrest = ['text/csv', 'application/geo+json', 'application/vnd.pgrst.plan', 'application/vnd.pgrst.plan+json',
    'application/vnd.pgrst.plan+text', 'application/openapi+json', 'text/plain', 'text/xml', 'application/octet-stream'];
  const other = types.find((t) => servedByPostgrest.includes(t.type));
  if (other) throw notImplemented(`responses of type ${other.type}`);
  throw new PgrstError(406, 'PGRST107', `None of these media types are available: ${types.map((t) => t.type).join(', ')}`);
}

/** The JSON body of the rows in _postgrest_t (SqlFragment.asJsonF / asJsonSingleF). */
export function bodyAggregate(media, { column = null, single = false } = {}) {
  const agg = column ? `json_agg(_postgrest_t.${column})` : 'json_agg(_postgrest_t)';
  const strip = (x) => (media.stripNulls ? `json_strip_nulls(${x})` : x);
  return media.singular || single ? `coalesce(${strip(`${agg} -> 0`)}, 'null')` : `coalesce(${strip(agg)}, '[]')`;
}

export const singularError = (n) =>
  new PgrstError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${n} rows`);

export function contentType(media) {
  const type = media.singular ? 'application/vnd.pgrst.object+json' : media.stripNulls ? 'application/vnd.pgrst.array+json' : 'application/json';
  return `${type}${media.stripNulls ? ';nulls=stripped' : ''}; charset=utf-8`;
}

// ---------------------------------------------------------------------------
// The transaction
// ---------------------------------------------------------------------------
const settingsSql =
  'select pg_catalog.set_config(s.k, s.v, true) from unnest($1::text[], $2::text[]) with ordinality as s(k, v, n) order by s.n';

/** The request.* and role settings PostgREST sets first in every transaction (PreQuery.txVarQuery). */
export function requestSettings({ schema, extraSearchPath, roleSettings, role, claims, method, path, headers }) {
  const requestHeaders = { ...headers };
  delete requestHeaders.cookie;
  const cookies = Object.fromEntries(
    (headers.cookie ?? '').split(';').map((c) => c.trim()).filter(Boolean).map((c) => {
      const i = c.indexOf('=');
      return [c.slice(0, i), c.slice(i + 1)];
    }),
  );
  return [
    ['search_path', [schema, ...extraSearchPath.filter((s) => s !== schema)].map(ident).join(', ')],
    ...(roleSettings.get(role) ?? new Map()),
    ['request.jwt.claims', JSON.stringify({ ...claims, role })],
    ['request.method', method],
    ['request.path', path],
    ['request.headers', JSON.stringify(requestHeaders)],
    ['request.cookies', JSON.stringify(cookies)],
    ['role', role],
  ];
}

// Statements are prepared under a name derived from their text, as PostgREST
// prepares its own (db-prepared-statements, on by default): the same query
// shape is parsed and planned once per connection. A connection keeps at most
// this many; beyond them statements go unnamed.
const maxPreparedPerConnection = 500;
const prepared = new WeakMap();

function statement(client, text, values) {
  let names = prepared.get(client);
  if (!names) prepared.set(client, (names = new Set()));
  const name = `pgrst_${createHash('sha1').update(text).digest('base64url')}`;
  if (names.has(name) || names.size < maxPreparedPerConnection) {
    names.add(name);
    return { name, text, values };
  }
  return { text, values };
}

/**
 * Runs a request's statements in one transaction as PostgREST does: begin
 * (read only where the request cannot write), the settings, the statements
 * `steps(query)` sends, commit; rollback when a step throws (a failed
 * .single() check rolls the writes back, as PostgREST's failNotSingular does).
 * Statements are pipelined: begin, settings and the main statement leave in
 * one write, and a statement sent with `{ last: true }` is followed by commit
 * at once (an error in it turns that commit into a rollback), so a request
 * without checks after its statement costs one round trip. A failure is
 * reported as the first statement that failed, as a PostgREST error.
 */
export async function inTransaction(pool, { readOnly, settings, anonymous }, steps) {
  let client;
  try {
    client = await pool.connect();
  } catch (e) {
    throw fromPgError(e, anonymous);
  }
  const sent = [];
  const send = (config) => {
    const p = client.query(config);
    p.catch(() => undefined); // observed through firstFailure
    sent.push(p);
    return p;
  };
  // The error of the earliest statement that failed (later ones only see an aborted transaction).
  const firstFailure = async (e) => {
    for (const p of sent) await p;
    throw e;
  };
  let commit = null;
  let broken;
  try {
    send(`begin isolation level read committed ${readOnly ? 'read only' : 'read write'}`);
    send({ name: 'pgrst_settings', text: settingsSql, values: [settings.map((x) => x[0]), settings.map((x) => x[1])] });
    const query = (text, values, { last = false } = {}) => {
      const p = send(statement(client, text, values));
      if (last) commit = send('commit');
      return p.catch(firstFailure);
    };
    const result = await steps(query);
    await (commit ?? send('commit'));
    return result;
  } catch (e) {
    if (!commit) {
      await client.query('rollback').catch((rollbackError) => {
        broken = rollbackError;
      });
    } else {
      await commit.catch((commitError) => {
        broken = commitError;
      });
    }
    throw e instanceof PgrstError ? e : fromPgError(e, anonymous);
  } finally {
    client.release(broken);
  }
}

/** The columns every main statement ends with: response.headers and response.status. */
export const gucColumns =
  `nullif(pg_catalog.current_setting('response.headers', true), '') as response_headers, ` +
  `nullif(pg_catalog.current_setting('response.status', true), '') as response_status`;

/**
 * Applies response.status / response.headers set by the statement (Response.hs
 * overrideStatusHeaders): the GUC headers replace the same-named ones and
 * repeated names (Set-Cookie) stay repeated. Headers are [name, value] pairs.
 */
export function applyResponseGucs(row, status, headers) {
  if (row.response_status != null) {
    const s = Number(row.response_status);
    if (!/^[0-9]+$/.test(row.response_status) || s < 100 || s > 599) {
      throw new PgrstError(500, 'PGRST112', 'response.status guc must be a valid status code');
    }
    status = s;
  }
  if (row.response_headers != null) {
    let parsed;
    try {
      parsed = JSON.parse(row.response_headers);
      if (!Array.isArray(parsed) || !parsed.every((h) => h && typeof h === 'object' && !Array.isArray(h)
        && Object.keys(h).length === 1 && typeof Object.values(h)[0] === 'string')) throw new Error('shape');
    } catch {
      throw new PgrstError(500, 'PGRST111', 'response.headers guc must be a JSON array composed of objects with a single key and a string value');
    }
    const fromGuc = parsed.map((h) => Object.entries(h)[0]);
    const names = new Set(fromGuc.map(([k]) => k.toLowerCase()));
    headers = [...headers.filter(([k]) => !names.has(k.toLowerCase())), ...fromGuc];
  }
  return { status, headers };
}

/** PostgREST's canonical query string for Content-Location (sorted, url-encoded). */
export function canonicalQuery(query) {
  const pairs = [...query].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
}
