// Counting pg_prove's results for the closing `N passed, N failed` line.

// pg_prove's summary: total tests run, the numbers listed as failed, tests a
// file planned but never ran, and files that died without a count.
export function parseProve(out) {
  const ran = Number(/^Files=\d+, Tests=(\d+)/m.exec(out)?.[1] ?? 0);
  let failed = 0;
  for (const m of out.matchAll(/^\s+Failed tests?:\s+([\d,\s-]+)$/gm)) {
    for (const part of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      const [a, b] = part.split('-').map(Number);
      failed += b ? b - a + 1 : 1;
    }
  }
  let notRun = 0;
  for (const m of out.matchAll(/You planned (\d+) tests? but ran (\d+)/g)) notRun += Math.max(0, Number(m[1]) - Number(m[2]));
  // A file that exited non-zero with no failed or missing test to show for it.
  const report = out.split(/^Test Summary Report/m)[1] ?? '';
  let died = 0;
  for (const block of report.split(/\n(?=\S)/)) {
    if (/Non-zero exit status|Wstat: [1-9]/.test(block) && !/Failed tests?:|You planned/.test(block)) died += 1;
  }
  if (!/^Result: (PASS|FAIL)/m.test(out)) died += 1;
  return { passed: ran - failed, failed: failed + notRun + died };
}
