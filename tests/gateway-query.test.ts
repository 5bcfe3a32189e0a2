// The local gateway's parser for PostgREST's query string, checked against the
// examples PostgREST's own parser documents and tests (doctests in
// src/PostgREST/ApiRequest/QueryParams.hs): what parses, to what, and what is
// refused. A PostgREST parse error is 400 PGRST100; embedding, which the
// gateway does not implement, is a loud 501 LOCAL501. The SQL these become is
// exercised end to end by tests/postgrest-conformance.test.ts.
import { describe, expect, it } from 'vitest';
import {
  binder, parseFilterValue, parseLogic, parseOrder, parseQuery, parseSelect, renderWhere,
} from '../local-stack/gateway/query.mjs';

const refused = (fn: () => unknown, status: number, code: string) => {
  try {
    fn();
  } catch (e) {
    expect(e).toMatchObject({ status, code });
    return;
  }
  throw new Error('expected a refusal');
};
const parseErr = (fn: () => unknown) => refused(fn, 400, 'PGRST100');
const embedding = (fn: () => unknown) => refused(fn, 501, 'LOCAL501');

describe('select (pFieldForest, pFieldSelect, pFieldName, pJsonPath)', () => {
  it('reads columns, aliases, casts and JSON paths', () => {
    expect(parseSelect('id')).toEqual([{ field: { name: 'id', json: [] }, cast: null, alias: null }]);
    expect(parseSelect('')).toEqual([]);
    expect(parseSelect('alias:name->jsonpath::cast')).toEqual([
      { field: { name: 'name', json: [{ arrow: '->', key: 'jsonpath' }] }, cast: 'cast', alias: 'alias' },
    ]);
    expect(parseSelect('alias:name->!@#$%^&*_a::cast')[0]).toMatchObject({ field: { json: [{ key: '!@#$%^&*_a' }] } });
    expect(parseSelect('*')).toEqual([{ star: true }]);
  });

  it('reads field names as PostgREST does: spaces, dashes, digits, _ and $; quoted names', () => {
    for (const name of ['identifier', 'identifier with spaces', 'identifier-with-dashes', '123', '_', '$']) {
      expect(parseSelect(name)[0]).toMatchObject({ field: { name } });
    }
    expect(parseSelect('":"')[0]).toMatchObject({ field: { name: ':' } });
    expect(parseSelect(' no leading or trailing spaces ')[0]).toMatchObject({ field: { name: 'no leading or trailing spaces' } });
    expect(parseSelect('" leading and trailing spaces "')[0]).toMatchObject({ field: { name: ' leading and trailing spaces ' } });
    parseErr(() => parseSelect(':'));
  });

  it('reads JSON keys and indexes, and refuses malformed negative indexes', () => {
    expect(parseSelect('c->text')[0]).toMatchObject({ field: { json: [{ arrow: '->', key: 'text' }] } });
    expect(parseSelect('c->1')[0]).toMatchObject({ field: { json: [{ arrow: '->', index: '1' }] } });
    expect(parseSelect('c->>1')[0]).toMatchObject({ field: { json: [{ arrow: '->>', index: '1' }] } });
    expect(parseSelect('c->0,other')).toHaveLength(2);
    expect(parseOrder('c->0.desc')[0]).toMatchObject({ field: { json: [{ index: '0' }] }, direction: 'desc' });
    parseErr(() => parseSelect('data->>-78xy'));
    parseErr(() => parseSelect('data->>--34'));
    parseErr(() => parseSelect('data->>-xy-4'));
  });

  it('refuses what PostgREST cannot parse', () => {
    parseErr(() => parseSelect('name!hint'));
    parseErr(() => parseSelect('*!hint'));
    parseErr(() => parseSelect('name::'));
    parseErr(() => parseSelect('rel->jsonpath(*)'));
  });

  it('answers 501 for embedding and spreads instead of a different result; aggregates are PGRST123 as on Supabase', () => {
    embedding(() => parseSelect('client(id)'));
    embedding(() => parseSelect('*,client(*,nested(*))'));
    embedding(() => parseSelect('*,...client(*),other(*)'));
    embedding(() => parseSelect('alias:rel!inner!hint(*)'));
    refused(() => parseSelect('count()'), 400, 'PGRST123');
    refused(() => parseSelect('amount.sum()'), 400, 'PGRST123');
  });
});

describe('filters (pOpExpr)', () => {
  it('reads operators, negation and any/all quantifiers', () => {
    expect(parseFilterValue('eq(any).value')).toEqual({ negate: false, op: 'eq', quantifier: 'any', value: 'value' });
    expect(parseFilterValue('eq(all).value')).toEqual({ negate: false, op: 'eq', quantifier: 'all', value: 'value' });
    expect(parseFilterValue('not.eq(all).value')).toEqual({ negate: true, op: 'eq', quantifier: 'all', value: 'value' });
    expect(parseFilterValue('in.(1,"a,b",c)')).toEqual({ negate: false, op: 'in', values: ['1', 'a,b', 'c'] });
    expect(parseFilterValue('is.NULL')).toMatchObject({ op: 'is', value: 'null' });
    expect(parseFilterValue('is.not_null')).toMatchObject({ op: 'is', value: 'not null' });
    expect(parseFilterValue('fts(english).cat')).toMatchObject({ op: 'fts', language: 'english', value: 'cat' });
    expect(parseFilterValue('isdistinct.5')).toMatchObject({ op: 'isdistinct', value: '5' });
    expect(parseFilterValue('gte.5.5')).toMatchObject({ op: 'gte', value: '5.5' });
  });

  it('is not an operator expression: eq(), is(), in() and fts() (an RPC argument on GET, a 400 elsewhere)', () => {
    for (const v of ['fts().value', 'eq().value', 'is().value', 'in().value', 'plain']) expect(parseFilterValue(v)).toBeNull();
    const q = parseQuery(new URLSearchParams('a=plain&b=eq.1'), { rpcRead: true });
    expect(q.args).toEqual([['a', 'plain']]);
    expect(q.filters).toHaveLength(1);
    parseErr(() => parseQuery(new URLSearchParams('a=plain')));
  });

  it('refuses an IS value outside null, not_null, true, false, unknown', () => {
    parseErr(() => parseFilterValue('is.maybe'));
  });
});

describe('order (pOrder)', () => {
  it('reads directions and null ordering', () => {
    expect(parseOrder('name.desc.nullsfirst')).toEqual([{ field: { name: 'name', json: [] }, direction: 'desc', nulls: 'nulls first' }]);
    expect(parseOrder('json_col->key.asc.nullslast')[0]).toMatchObject({ field: { json: [{ key: 'key' }] }, direction: 'asc', nulls: 'nulls last' });
    expect(parseOrder('a,b.desc')).toHaveLength(2);
  });

  it('refuses what PostgREST refuses', () => {
    for (const v of ['id.ac', 'id.descc', 'id.nulsfist', 'id.nullslasttt', 'id.smth34', 'id.asc.nlsfst', 'id.asc.nullslasttt']) {
      parseErr(() => parseOrder(v));
    }
    embedding(() => parseOrder('clients(json_col->key).desc.nullsfirst'));
  });
});

describe('logic trees (pLogicTree)', () => {
  it('reads nested and/or with negation, quoted values and array literals', () => {
    const t = parseLogic('or', '(a.eq.1,not.and(b.in.(1,2),c.cs.{x,y}),d.eq."p,q")');
    expect(t).toMatchObject({ op: 'or', negate: false });
    expect(t.children[1]).toMatchObject({ op: 'and', negate: true });
    expect(t.children[1].children[1]).toMatchObject({ filter: { op: 'cs', value: '{x,y}' } });
    expect(t.children[2]).toMatchObject({ filter: { value: 'p,q' } });
  });

  it('refuses malformed trees', () => {
    parseErr(() => parseLogic('or', '()'));
    parseErr(() => parseLogic('or', '(id.in.1,2,id.eq.3)'));
    parseErr(() => parseLogic('or', ')('));
    parseErr(() => parseLogic('and', '(ord(id.eq.1,id.eq.1),id.eq.2)'));
    parseErr(() => parseLogic('or', '(id.eq.1,not.xor(id.eq.2,id.eq.3))'));
  });
});

describe('the query string as a whole (QueryParams.parse)', () => {
  it('splits reserved keys, takes the last limit and offset, and refuses embedded paths loudly', () => {
    const q = parseQuery(new URLSearchParams('select=id&limit=5&limit=7&offset=2&order=id&or=(a.eq.1)&id=gt.3'));
    expect(q).toMatchObject({ limit: 7, offset: 2, select: [{ field: { name: 'id' } }] });
    expect(q.logic).toHaveLength(1);
    expect(q.filters).toHaveLength(1);
    embedding(() => parseQuery(new URLSearchParams('clients.id=eq.1')));
    embedding(() => parseQuery(new URLSearchParams('clients.order=id')));
  });

  it('binds every value as a parameter and quotes identifiers', () => {
    const q = parseQuery(new URLSearchParams(`name=eq.x'; drop table t; --&"we\\"ird"=like.*a*`));
    const b = binder();
    const where = renderWhere('t', q, b);
    expect(where).toBe('where t."name" = $1 and t."we""ird" like $2');
    expect(b.params).toEqual(["x'; drop table t; --", '%a%']);
  });
});
