// The local stand-in for one part of supautils: "privileged extensions".
//
// On Supabase, `postgres` is not a superuser, yet `create extension pg_cron`
// works: supautils (supautils.privileged_extensions, see
// supabase/postgres ansible/files/postgresql_config/supautils.conf.j2) runs the
// statement as the bootstrap superuser, then runs the extension's after-create
// script. supautils is not packaged for Debian. PostgreSQL's own equivalent is
// a trusted extension: when a non-superuser creates it, PostgreSQL runs its
// script as the bootstrap superuser too. So the local stack marks exactly the
// privileged extensions the project uses as trusted; the after-create grants
// are an event trigger in local-stack/baseline.sql.
//
// The control files belong to the system packages (the PostgreSQL share
// directory), so this is the one place that changes them: only as root, only
// by appending `trusted = true`, idempotently. A package upgrade restores the
// original file; the next cluster start marks it again.
import { readFileSync, renameSync, writeFileSync, existsSync, statSync, chmodSync } from 'node:fs';
import path from 'node:path';

// Supabase's privileged extensions (supautils.privileged_extensions) that our
// migrations, tests or tools create as postgres and whose control file does
// not already let a non-superuser create them. uuid-ossp and pgcrypto are
// trusted upstream; pgtap is `superuser = false`.
export const trustedPrivilegedExtensions = ['pg_cron', 'postgis', 'plpgsql_check'];

const marker = '# local stack: a Supabase privileged extension (local-stack/supautils.mjs)';
const isTrusted = (control) => /^\s*trusted\s*=\s*true\s*$/m.test(control);

/**
 * Mark Supabase's privileged extensions as trusted in `shareDir`/extension.
 * Returns the names it changed. Throws, naming the files, when a change is
 * needed and the process is not root. Extensions whose package is absent are
 * skipped (the package check reports them).
 */
export function trustPrivilegedExtensions(shareDir, names = trustedPrivilegedExtensions) {
  if (!shareDir || !existsSync(path.join(shareDir, 'extension'))) {
    throw new Error(`trustPrivilegedExtensions: ${shareDir}/extension is not a PostgreSQL share directory`);
  }
  const pending = names
    .map((name) => ({ name, file: path.join(shareDir, 'extension', `${name}.control`) }))
    .filter(({ file }) => existsSync(file))
    .filter(({ file }) => !isTrusted(readFileSync(file, 'utf8')));
  if (pending.length === 0) return [];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) {
    throw new Error(
      `The local stack needs these extensions marked trusted, as supautils makes them creatable by postgres on Supabase:\n` +
        pending.map(({ file }) => `  ${file}`).join('\n') +
        `\nRun npm start or npm test once as root, or append "trusted = true" to each file yourself.`,
    );
  }
  for (const { file } of pending) {
    const before = readFileSync(file, 'utf8');
    const kept = before.replace(/^\s*trusted\s*=.*$/m, '').replace(/\n*$/, '\n');
    const tmp = `${file}.local-stack-tmp`;
    writeFileSync(tmp, `${kept}${marker}\ntrusted = true\n`);
    chmodSync(tmp, statSync(file).mode & 0o777);
    renameSync(tmp, file);
  }
  return pending.map(({ name }) => name);
}
