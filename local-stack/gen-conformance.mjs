#!/usr/bin/env node
// Writes the PostgREST conformance table of docs/functions.md from the case
// list in tests/support/conformance.ts (tests/postgrest-conformance-docs.test.ts
// fails while they differ). That module has no imports, so the TypeScript
// compiler's transpileModule is all it takes to load it here.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { log, repoRoot } from './lib.mjs';

async function loadCases() {
  const source = readFileSync(path.join(repoRoot, 'tests/support/conformance.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
}

const { cases, withConformanceTable } = await loadCases();
const docPath = path.join(repoRoot, 'docs/functions.md');
const doc = readFileSync(docPath, 'utf8');
const next = withConformanceTable(doc);
if (next === doc) {
  log(`docs/functions.md: the conformance table is current (${cases.length} cases)`);
} else {
  writeFileSync(docPath, next);
  log(`docs/functions.md: wrote the conformance table (${cases.length} cases)`);
}
