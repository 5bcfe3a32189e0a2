// PostgREST's query-string grammar (select, filters, and/or trees, order,
// limit/offset, columns, on_conflict) and the SQL it stands for, with every
// value bound as an untyped parameter, as PostgREST binds them (`unknown`), so
// PostgreSQL types each one from its context. Identifiers are quoted; casts are
// checked against PostgREST's identifier alphabet before they reach SQL.
// Grammar: PostgREST src/PostgREST/ApiRequest/QueryParams.hs; rendering:
// src/PostgREST/Query/SqlFragment.hs (pgFmtFilter, pgFmtLogicTree, orderF).
// Embedded resources (`rel(*)`, `rel.col=…`) and aggregates are refused with a
// loud 501 instead of an answer that would differ from PostgREST's.
import { PgrstError, notImplemented } from './errors.mjs';

export const ident = (s) => `"${String(s).replace(/"/g, '""')}"`;

// db-aggregates-enabled is off by default, and on Supabase (Error.hs AggregatesNotAllowed).
const aggregatesNotAllowed = () => new PgrstError(400, 'PGRST123', 'Use of aggregate functions is not allowed');

const parseError = (what, value, column, details) =>
  new PgrstError(400, 'PGRST100', `"failed to parse ${what} (${value})" (line 1, column ${column})`, details);

// ---------------------------------------------------------------------------
// A tiny cursor over one parameter's text, with PostgREST's lexical pieces.
// ---------------------------------------------------------------------------
class Cursor {
  constructor(text, what) {
    this.s = text;
    this.i = 0;
    this.what = what;
  }

  get done() { return this.i >= this.s.length; }
  peek(n = 1) { return this.s.slice(this.i, this.i + n); }
  startsWith(t) { return this.s.startsWith(t, this.i); }
  eat(t) {
    if (!this.startsWith(t)) return false;
    this.i += t.length;
    return true;
  }
  ws() { while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++; }
  fail(expected) {
    const got = this.done ? 'end of input' : `"${this.s[this.i]}"`;
    return parseError(this.what, this.s, this.i + 1, `unexpected ${got} expecting ${expected}`);
  }
  expect(t, expected = `"${t}"`) {
    if (!this.eat(t)) throw this.fail(expected);
  }
}

// pQuotedValue: "…" with backslash escapes.
function quoted(c) {
  if (c.peek() !== '"') return null;
  let j = c.i + 1;
  let out = '';
  while (j < c.s.length && c.s[j] !== '"') {
    if (c.s[j] === '\\' && j + 1 < c.s.length) j++;
    out += c.s[j++];
  }
  if (j >= c.s.length) throw c.fail('"\\"" closing the quoted value');
  c.i = j + 1;
  return out;
}

// pFieldName: a quoted name, or identifiers ([letters digits _ $ space]) joined by single dashes not followed by '>'.
function fieldName(c) {
  const q = quoted(c);
  if (q !== null) return q;
  const m = /^[\p{L}\p{N}_ $]+(?:-(?!>)[\p{L}\p{N}_ $]+)*/u.exec(c.s.slice(c.i));
  if (!m) throw c.fail('field name (* or [a..z0..9_$])');
  c.i += m[0].length;
  return m[0].trim();
}

// pJsonPath: (-> | ->>) (index | key)*
function jsonPath(c) {
  const path = [];
  for (;;) {
    let arrow;
    if (c.eat('->>')) arrow = '->>';
    else if (c.eat('->')) arrow = '->';
    else return path;
    const idx = /^-?[0-9]+(?=->|::|\.|,|$)/.exec(c.s.slice(c.i));
    if (idx) {
      c.i += idx[0].length;
      path.push({ arrow, index: idx[0] });
      continue;
    }
    const q = quoted(c);
    if (q !== null) {
      path.push({ arrow, key: q });
      continue;
    }
    const m = /^[^(\-:.,>)]+(?:-(?!>)[^(\-:.,>)]+)*/.exec(c.s.slice(c.i));
    if (!m) throw c.fail('a JSON key or index');
    c.i += m[0].length;
    path.push({ arrow, key: m[0].trim() });
  }
}

function field(c) {
  c.ws();
  const name = fieldName(c);
  const json = jsonPath(c);
  c.ws();
  return { name, json };
}

const castIdentifier = /^[\p{L}\p{N}_ $]+/u;

function cast(c) {
  if (!c.eat('::')) return null;
  const m = castIdentifier.exec(c.s.slice(c.i));
  if (!m) throw c.fail('letter or digit');
  c.i += m[0].length;
  return m[0].trim();
}

// ---------------------------------------------------------------------------
// select
// ---------------------------------------------------------------------------
function selectItem(c) {
  c.ws();
  if (c.startsWith('...')) throw notImplemented('spread embedding (`...relation(…)`) in select');
  const start = c.i;
  if (c.eat('*')) {
    c.ws();
    return { star: true };
  }
  // alias:
  let alias = null;
  const save = c.i;
  try {
    const a = fieldName(c);
    if (c.peek() === ':' && c.peek(2) !== '::') {
      c.i++;
      alias = a;
    } else c.i = save;
  } catch {
    c.i = save;
  }
  if (c.startsWith('count()')) throw aggregatesNotAllowed();
  const f = field(c);
  // rel(…) and rel!hint(…) embed a relation; a `!` not leading to `(` is a parse error.
  const embed = /^(?:![^,()!]+){0,2}\(/.exec(c.s.slice(c.i));
  if (embed && !f.json.length) throw notImplemented(`resource embedding (\`${c.s.slice(start, c.i)}${embed[0]}…)\`) in select`);
  const castTo = cast(c);
  if (/^\.(sum|avg|count|max|min)\(\)/.test(c.s.slice(c.i))) {
    throw aggregatesNotAllowed();
  }
  c.ws();
  return { field: f, cast: castTo, alias };
}

export function parseSelect(text) {
  const c = new Cursor(text, 'select parameter');
  const items = [];
  c.ws();
  if (c.done) return items;
  for (;;) {
    items.push(selectItem(c));
    if (c.done) return items;
    if (!c.eat(',')) throw c.fail('",", ")" or end of input');
  }
}

// ---------------------------------------------------------------------------
// filters: [not.]op[(modifier)].value
// ---------------------------------------------------------------------------
const simpleOps = { neq: '<>', cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxr: '&<', nxl: '&>', adj: '-|-' };
const quantOps = { eq: '=', gte: '>=', gt: '>', lte: '<=', lt: '<', like: 'like', ilike: 'ilike', match: '~', imatch: '~*' };
const ftsOps = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' };
const isValues = { null: 'null', not_null: 'not null', true: 'true', false: 'false', unknown: 'unknown' };
const opHead = /^(not\.)?(in|isdistinct|is|fts|plfts|phfts|wfts|neq|cs|cd|ov|sl|sr|nxr|nxl|adj|eq|gte|gt|lte|lt|like|ilike|match|imatch)(?:\(([^)]*)\))?\./;

// pListVal: ( element , element ) where an element is a quoted value or text without , and ).
function listValue(c) {
  c.ws();
  c.expect('(');
  c.ws();
  const items = [];
  for (;;) {
    const save = c.i;
    let v = quoted(c);
    if (v !== null && !(c.done || c.peek() === ',' || c.peek() === ')')) {
      c.i = save;
      v = null;
    }
    if (v === null) {
      const m = /^[^,)]*/.exec(c.s.slice(c.i))[0];
      c.i += m.length;
      v = m;
    }
    items.push(v);
    if (c.eat(',')) continue;
    c.ws();
    c.expect(')', '"," or ")"');
    c.ws();
    return items;
  }
}

/**
 * One operator expression; `single` reads the value of a one-value operator
 * (the rest of the parameter at the top level, up to `,` or `)` in a logic tree).
 * Returns null when the text is not an operator expression.
 */
function opExpr(c, single) {
  const m = opHead.exec(c.s.slice(c.i));
  if (!m) return null;
  const [head, not, op, modifier] = m;
  c.i += head.length;
  const negate = Boolean(not);
  if (op === 'in') {
    if (modifier !== undefined) return null;
    c.i -= 1; // listValue reads from the delimiter on
    c.expect('.');
    return { negate, op, values: listValue(c) };
  }
  if (op === 'is') {
    if (modifier !== undefined) return null;
    const v = /^[a-z_]+/i.exec(c.s.slice(c.i))?.[0]?.toLowerCase();
    if (!v || !(v in isValues)) throw c.fail('isVal: (null, not_null, true, false, unknown)');
    c.i += v.length;
    return { negate, op, value: isValues[v] };
  }
  if (op in ftsOps) {
    if (modifier !== undefined && !castIdentifier.test(modifier)) return null;
    return { negate, op, language: modifier ?? null, value: single(c) };
  }
  if (op in simpleOps || op === 'isdistinct') {
    if (modifier !== undefined) return null;
    return { negate, op, value: single(c) };
  }
  if (modifier !== undefined && modifier !== 'any' && modifier !== 'all') return null;
  return { negate, op, quantifier: modifier ?? null, value: single(c) };
}

const restOfText = (c) => {
  const v = c.s.slice(c.i);
  c.i = c.s.length;
  return v;
};

/** A top-level filter value (`eq.5`); null when it is not an operator expression. */
export function parseFilterValue(value) {
  const c = new Cursor(value, 'filter');
  try {
    return opExpr(c, restOfText);
  } catch (e) {
    if (e instanceof PgrstError) throw e;
    return null;
  }
}

// pLogicSingleVal: a quoted value, a {…} array literal, or text without , and ).
function logicSingle(c) {
  const save = c.i;
  const q = quoted(c);
  if (q !== null && (c.done || c.peek() === ',' || c.peek() === ')')) return q;
  c.i = save;
  const arr = /^\{[^{}]*\}/.exec(c.s.slice(c.i));
  if (arr) {
    c.i += arr[0].length;
    return arr[0];
  }
  const m = /^[^,)]*/.exec(c.s.slice(c.i))[0];
  c.i += m.length;
  return m;
}

function logicTree(c) {
  c.ws();
  const save = c.i;
  // a filter: field.opexpr
  try {
    const f = field(c);
    if (c.eat('.')) {
      const e = opExpr(c, logicSingle);
      if (e) return { filter: { field: f, ...e } };
    }
  } catch (e) {
    if (e.code === 'LOCAL501') throw e;
  }
  c.i = save;
  const negate = c.eat('not.');
  let op;
  if (c.eat('and')) op = 'and';
  else if (c.eat('or')) op = 'or';
  else throw c.fail('logic operator (and, or)');
  c.ws();
  c.expect('(');
  const children = [];
  for (;;) {
    children.push(logicTree(c));
    c.ws();
    if (c.eat(',')) continue;
    c.expect(')', '"," or ")"');
    c.ws();
    return { negate, op, children };
  }
}

/** `or=(…)` / `not.and=(…)`: the key names the operator, the value holds the tree. */
export function parseLogic(key, value) {
  const c = new Cursor(`${key}${value}`, 'logic tree');
  const tree = logicTree(c);
  if (!c.done) throw c.fail('end of input');
  return tree;
}

// ---------------------------------------------------------------------------
// order=col[.asc|.desc][.nullsfirst|.nullslast],…
// ---------------------------------------------------------------------------
export function parseOrder(value) {
  const c = new Cursor(value, 'order');
  const terms = [];
  for (;;) {
    c.ws();
    const f = field(c);
    if (c.peek() === '(') throw notImplemented('ordering by an embedded resource');
    let direction = null;
    let nulls = null;
    if (c.eat('.asc')) direction = 'asc';
    else if (c.eat('.desc')) direction = 'desc';
    if (c.eat('.nullsfirst')) nulls = 'nulls first';
    else if (c.eat('.nullslast')) nulls = 'nulls last';
    c.ws();
    terms.push({ field: f, direction, nulls });
    if (c.done) return terms;
    if (!c.eat(',')) throw c.fail(direction || nulls ? '"," or end of input' : '"asc", "desc", "nullsfirst" or "nullslast"');
  }
}

// columns=a,b and on_conflict=a,b
export function parseColumns(value, what) {
  const c = new Cursor(value, what);
  const cols = [];
  for (;;) {
    c.ws();
    cols.push(fieldName(c));
    c.ws();
    if (c.done) return cols;
    if (!c.eat(',')) throw c.fail('"," or end of input');
  }
}

// ---------------------------------------------------------------------------
// The whole query string, split as PostgREST splits it (QueryParams.parse).
// ---------------------------------------------------------------------------
const lastWord = (k) => k.slice(k.lastIndexOf('.') + 1);
// limit/offset as Haskell's readMaybe reads an Integer: what it cannot read is ignored;
// a negative limit is read, and refused later as an empty range (416).
const integer = (v) => (/^-?[0-9]+$/.test(v) ? Number(v) : null);

/**
 * Splits a query string. `rpcRead`: a GET/HEAD on a function, where a
 * parameter whose value is not an operator expression is an argument.
 * Returns {select, filters, logic, order, limit, offset, columns, onConflict, args}.
 */
export function parseQuery(params, { rpcRead = false } = {}) {
  const q = { select: null, filters: [], logic: [], order: [], limit: null, offset: null, columns: null, onConflict: null, args: [] };
  const first = new Map();
  for (const [k, v] of params) if (!first.has(k)) first.set(k, v);
  if (first.has('select')) q.select = parseSelect(first.get('select'));
  if (first.has('columns') && first.get('columns') !== '') q.columns = parseColumns(first.get('columns'), 'columns parameter');
  if (first.has('on_conflict') && first.get('on_conflict') !== '') q.onConflict = parseColumns(first.get('on_conflict'), 'on_conflict parameter');
  for (const [k, v] of params) {
    if (k === 'select' || k === 'columns' || k === 'on_conflict') continue;
    const word = lastWord(k);
    const embedded = k.includes('.') && !(/^not\.(and|or)$/.test(k));
    if (['order', 'limit', 'offset', 'and', 'or'].includes(word)) {
      if (v === '') continue;
      if (embedded) throw notImplemented(`"${k}" (parameters of embedded resources)`);
      if (word === 'order') q.order.push(...parseOrder(v));
      else if (word === 'limit') q.limit = integer(v) ?? q.limit;
      else if (word === 'offset') q.offset = integer(v) ?? q.offset;
      else q.logic.push(parseLogic(k, v));
      continue;
    }
    const c = new Cursor(k, 'tree path');
    const name = fieldName(c);
    if (c.peek() === '.') throw notImplemented(`"${k}" (filters on embedded resources)`);
    const json = jsonPath(c);
    if (!c.done) throw c.fail('end of input');
    const e = parseFilterValue(v);
    if (!e) {
      if (rpcRead) {
        q.args.push([k, v]);
        continue;
      }
      throw parseError('filter', v, 1, 'unexpected end of input expecting operator (eq, gt, ...)');
    }
    q.filters.push({ field: { name, json }, ...e });
  }
  return q;
}

// ---------------------------------------------------------------------------
// Rendering. `bind(value)` appends a parameter and returns its placeholder.
// ---------------------------------------------------------------------------
export function binder(params = []) {
  return { params, bind: (v) => `$${params.push(v)}` };
}

// The relation the renderers qualify columns with: its SQL name and, where
// known, its columns' base types (json paths and full-text search depend on them).
const asRelation = (rel) => (typeof rel === 'string' ? { sql: rel, types: null } : rel);
const jsonTypes = new Set(['json', 'jsonb']);

// A column with its JSON path (SqlFragment.pgFmtField, Plan.resolveTypeOrUnknown):
// arrows apply to json/jsonb directly, to any other or unknown type through
// to_jsonb(); full-text search reads a known non-tsvector column through to_tsvector().
function renderField(rel, f, b, { tsLanguage } = {}) {
  const r = asRelation(rel);
  const type = r.types?.get(f.name) ?? null;
  let sql = f.name === '*' ? `${r.sql}.*` : `${r.sql}.${ident(f.name)}`;
  if (f.json.length && !jsonTypes.has(type)) sql = `pg_catalog.to_jsonb(${sql})`;
  for (const step of f.json) {
    sql += step.index !== undefined ? `${step.arrow}${b.bind(step.index)}::int` : `${step.arrow}${b.bind(step.key)}`;
  }
  if (tsLanguage !== undefined && type !== null && type !== 'tsvector') {
    sql = `pg_catalog.to_tsvector(${tsLanguage ? `${b.bind(tsLanguage)}::regconfig, ` : ''}${sql})`;
  }
  return sql;
}

// PostgreSQL array literal of text elements (pgBuildArrayLiteral).
const arrayLiteral = (values) => `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;

function renderFilter(rel, f, b) {
  const lhs = renderField(rel, f.field, b, f.op in ftsOps ? { tsLanguage: f.language } : {});
  const not = f.negate ? 'not ' : '';
  switch (f.op) {
    case 'in':
      return f.values.length === 1 && f.values[0] === ''
        ? `${not}${lhs} = any('{}')`
        : `${not}${lhs} = any(${b.bind(arrayLiteral(f.values))})`;
    case 'is':
      return `${not}${lhs} is ${f.value}`;
    case 'isdistinct':
      return `${not}${lhs} is distinct from ${b.bind(f.value)}`;
    default:
      break;
  }
  if (f.op in ftsOps) {
    const lang = f.language ? `${b.bind(f.language)}::regconfig, ` : '';
    return `${not}${lhs} @@ ${ftsOps[f.op]}(${lang}${b.bind(f.value)})`;
  }
  if (f.op in simpleOps) return `${not}${lhs} ${simpleOps[f.op]} ${b.bind(f.value)}`;
  const value = f.op === 'like' || f.op === 'ilike' ? f.value.replace(/\*/g, '%') : f.value;
  const rhs = f.quantifier ? `${f.quantifier}(${b.bind(value)})` : b.bind(value);
  return `${not}${lhs} ${quantOps[f.op]} ${rhs}`;
}

function renderLogic(rel, t, b) {
  if (t.filter) return renderFilter(rel, t.filter, b);
  return `${t.negate ? 'not ' : ''}(${t.children.map((x) => renderLogic(rel, x, b)).join(` ${t.op} `)})`;
}

/** `where …` for the filters and logic trees (empty string when there are none). */
export function renderWhere(rel, q, b) {
  const parts = [...q.filters.map((f) => renderFilter(rel, f, b)), ...q.logic.map((t) => renderLogic(rel, t, b))];
  return parts.length ? `where ${parts.join(' and ')}` : '';
}

export function renderOrder(rel, q, b) {
  if (!q.order.length) return '';
  return `order by ${q.order
    .map((t) => [renderField(rel, t.field, b), t.direction, t.nulls].filter(Boolean).join(' '))
    .join(', ')}`;
}

// The name PostgREST gives a select item without an alias (Plan.hs addAliases).
function defaultAlias(f) {
  if (!f.json.length) return null;
  const last = f.json[f.json.length - 1];
  if (last.key !== undefined) return last.key;
  return [...f.json].reverse().find((s) => s.key !== undefined)?.key ?? f.name;
}

/** The select list; `*` when the query has none. */
export function renderSelect(rel, q, b) {
  if (!q.select || !q.select.length) return `${asRelation(rel).sql}.*`;
  return q.select
    .map((item) => {
      if (item.star) return `${asRelation(rel).sql}.*`;
      let sql = renderField(rel, item.field, b);
      if (item.cast) sql = `cast(${sql} as ${item.cast})`;
      const alias = item.alias ?? defaultAlias(item.field);
      return alias ? `${sql} as ${ident(alias)}` : sql;
    })
    .join(', ');
}

export const hasFilters = (q) => q.filters.length > 0 || q.logic.length > 0;

/** Whether the query shapes the rows (select, filters, order): not possible on scalar results. */
export const shapesRows = (q) => Boolean(q.select?.length) || hasFilters(q) || q.order.length > 0;
