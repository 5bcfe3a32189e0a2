// docs/functions.md carries the PostgREST conformance case list as a table;
// `node local-stack/gen-conformance.mjs` rewrites it from tests/support/conformance.ts.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cases, conformanceTable, tableBegin, tableEnd } from './support/conformance.ts';

const doc = readFileSync(new URL('../docs/functions.md', import.meta.url), 'utf8');

it('docs/functions.md has the current conformance table (node local-stack/gen-conformance.mjs)', () => {
  const begin = doc.indexOf(tableBegin);
  const end = doc.indexOf(tableEnd);
  expect(begin, 'the table markers').toBeGreaterThan(-1);
  expect(doc.slice(begin + tableBegin.length, end).trim()).toBe(conformanceTable());
});

it('the case ids are unique', () => {
  const seen = cases.map((c) => c.id);
  expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
});
