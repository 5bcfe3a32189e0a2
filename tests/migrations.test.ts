// One current definition of every object: each function (by signature),
// table, view and index is created once in supabase/migrations/, in its
// domain's file, in its final shape. A second `create or replace` of the same
// signature elsewhere would make the earlier body dead text that readers
// still find first. pgTAP cannot read the migration files portably (under
// `supabase test db` they are not on the server), so the check is here.
// Runs on the files alone: no database needed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const migrationsDir = path.join(import.meta.dirname, '..', 'supabase', 'migrations');

// The SQL with comments, string literals and dollar-quoted bodies blanked
// out, so `create table` inside a function body (dynamic SQL) or a comment is
// not taken for a statement of the migration.
export function codeOnly(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    let m: RegExpMatchArray | null;
    let skip = 0;
    if (rest.startsWith('--')) {
      const nl = rest.indexOf('\n');
      skip = nl < 0 ? rest.length : nl;
    } else if (rest.startsWith('/*')) {
      const end = rest.indexOf('*/', 2);
      skip = end < 0 ? rest.length : end + 2;
    } else if (rest[0] === "'") {
      let j = 1;
      while (j < rest.length && !(rest[j] === "'" && rest[j + 1] !== "'")) j += rest[j] === "'" ? 2 : 1;
      skip = j + 1;
    } else if ((m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest))) {
      const end = rest.indexOf(m[0], m[0].length);
      skip = end < 0 ? rest.length : end + m[0].length;
    }
    if (skip) {
      out += rest.slice(0, skip).replace(/[^\n]/g, ' ');
      i += skip;
    } else {
      out += sql[i];
      i += 1;
    }
  }
  return out;
}

const aliases: Record<string, string> = {
  int: 'integer', int4: 'integer', int8: 'bigint', int2: 'smallint', bool: 'boolean', float8: 'double precision',
  float4: 'real', 'timestamp with time zone': 'timestamptz', 'timestamp without time zone': 'timestamp',
  'character varying': 'varchar', decimal: 'numeric',
};
// Types that are written as more than one word: their first word is never a parameter name.
const multiWordTypes = /^(double|character|timestamp|time|bit|interval|national)\b/;

const qualify = (name = '') => {
  const n = name.replace(/"/g, '').toLowerCase();
  return n.includes('.') ? n : `public.${n}`;
};

// The argument types of a parameter list: names, defaults and OUT parameters
// (not part of a function's identity) dropped.
export function argTypes(params: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of params) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      args.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) args.push(cur);
  return args
    .map((a) => a.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\s*(\bdefault\b|=).*$/, ''))
    .filter((a) => !/^(out)\s/.test(a))
    .map((a) => a.replace(/^(in|inout|variadic)\s+/, ''))
    .map((a) => {
      const words = a.split(' ');
      const type = words.length > 1 && !multiWordTypes.test(a) ? words.slice(1).join(' ') : a;
      const base = type.replace(/\(.*\)/, '').trim();
      return aliases[base] ?? base;
    });
}

export type Definition = { kind: string; key: string; file: string };

export function definitions(sql: string, file: string): Definition[] {
  const code = codeOnly(sql);
  const found: Definition[] = [];
  const fn = /\bcreate\s+(?:or\s+replace\s+)?function\s+([\w."]+)\s*\(/gi;
  for (let m; (m = fn.exec(code)); ) {
    let depth = 1;
    let j = m.index + m[0].length;
    const start = j;
    while (j < code.length && depth) {
      if (code[j] === '(') depth++;
      if (code[j] === ')') depth--;
      j++;
    }
    found.push({ kind: 'function', key: `${qualify(m[1])}(${argTypes(code.slice(start, j - 1)).join(', ')})`, file });
  }
  const table = /\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?([\w."]+)/gi;
  for (let m; (m = table.exec(code)); ) found.push({ kind: 'table', key: qualify(m[1]), file });
  const view = /\bcreate\s+(?:or\s+replace\s+)?(?:materialized\s+)?view\s+(?:if\s+not\s+exists\s+)?([\w."]+)/gi;
  for (let m; (m = view.exec(code)); ) found.push({ kind: 'view', key: qualify(m[1]), file });
  // An index lives in its table's schema.
  const index = /\bcreate\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?([\w"]+)\s+on\s+(?:only\s+)?([\w."]+)/gi;
  for (let m; (m = index.exec(code)); ) {
    const schema = qualify(m[2]).split('.')[0] ?? 'public';
    found.push({ kind: 'index', key: `${schema}.${(m[1] ?? '').replace(/"/g, '').toLowerCase()}`, file });
  }
  return found;
}

export function duplicates(defs: Definition[]): string[] {
  const byKey = new Map<string, string[]>();
  for (const d of defs) {
    const k = `${d.kind} ${d.key}`;
    byKey.set(k, [...(byKey.get(k) ?? []), d.file]);
  }
  return [...byKey].filter(([, files]) => files.length > 1).map(([k, files]) => `${k}: ${files.join(', ')}`);
}

describe('supabase/migrations', () => {
  const files = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
  const defs = files.flatMap((f) => definitions(readFileSync(path.join(migrationsDir, f), 'utf8'), f));

  it('creates every function (by signature), table, view and index once', () => {
    expect(duplicates(defs)).toEqual([]);
  });

  it('finds the definitions it checks (the parser is not blind)', () => {
    const count = (kind: string) => defs.filter((d) => d.kind === kind).length;
    expect(count('function')).toBeGreaterThan(200);
    expect(count('table')).toBeGreaterThan(30);
    expect(count('index')).toBeGreaterThan(30);
    expect(defs.map((d) => d.key)).toContain('private.check_rate_limit(text, integer, uuid, boolean)');
  });
});

describe('the duplicate check', () => {
  it('tells overloads apart and ignores names, defaults and OUT parameters', () => {
    const sql = `
      create or replace function public.f(p_a text, p_b integer default 1) returns int language sql as $$ select 1 $$;
      create function public.f(p_a text) returns int language sql as $$ select 1 $$;
      create or replace function private.g(double precision, out r int) returns int language sql as $$ select 1 $$;`;
    expect(definitions(sql, 'a.sql').map((d) => d.key)).toEqual([
      'public.f(text, integer)', 'public.f(text)', 'private.g(double precision)',
    ]);
  });

  it('reports a signature, table or index created twice, not text inside bodies or comments', () => {
    const a = `create or replace function public.f(p_a int) returns void language plpgsql as $$
                 begin execute 'create table public.t (id int)'; end $$;
               create table if not exists public.t (id int);
               create index t_id_idx on public.t (id);
               -- create table public.t (id int);`;
    const b = `create or replace function public.f(p_x integer) returns void language sql as $body$ select $body$;
               create index if not exists t_id_idx on public.t (id);`;
    expect(duplicates([...definitions(a, 'a.sql'), ...definitions(b, 'b.sql')])).toEqual([
      'function public.f(integer): a.sql, b.sql',
      'index public.t_id_idx: a.sql, b.sql',
    ]);
  });
});
