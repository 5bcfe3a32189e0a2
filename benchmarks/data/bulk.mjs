// Bulk-load helpers shared by the data generators (benchmarks/data/*.mjs).
//
// A generator returns its load as phases: [{ name, sql }], each one psql
// call, run in order by runPhases() and timed. How a load is made fast:
//   - rows come from set-based SQL (generate_series), written once into the
//     target table: no staging copy to write and read again;
//   - a table's triggers are off for the load (`triggersOff`): with a
//     superuser connection (`superuser: true`) through session_replication_role
//     = replica, which also skips the foreign-key checks (the generators make
//     consistent rows); otherwise `disable trigger user`, as the chat suite
//     does (foreign keys then checked row by row: slower, same result).
//     Counters the triggers would keep are set once afterwards;
//   - a table's indexes (constraint-backed ones too, unless a foreign key
//     depends on them) are dropped before the load and rebuilt after it from
//     their own definitions (pg_get_indexdef / pg_get_constraintdef): one
//     sort per index instead of one random insert per row.

/** SQL: switch a table's triggers off (for one load statement list), and back on. */
export const triggersOff = (table, { superuser = false } = {}) =>
  superuser ? 'set session_replication_role = replica;' : `alter table ${table} disable trigger user;`;
export const triggersOn = (table, { superuser = false } = {}) =>
  superuser ? 'set session_replication_role = origin;' : `alter table ${table} enable trigger user;`;

// Saved definitions live in bench.dropped_indexes until rebuilt.
const savedTable = `
create schema if not exists bench;
create table if not exists bench.dropped_indexes (
  tbl regclass not null, name text not null, recreate text not null, is_constraint boolean not null
);`;

/** SQL: drop every index of `table` no foreign key depends on, saving how to rebuild it. */
export const dropIndexes = (table) => `${savedTable}
do $$
declare
  r record;
begin
  for r in
    select i.indexrelid::regclass as idx, c.conname, pg_catalog.pg_get_indexdef(i.indexrelid) as def,
           pg_catalog.pg_get_constraintdef(c.oid) as cdef
      from pg_catalog.pg_index as i
      left join pg_catalog.pg_constraint as c on c.conindid = i.indexrelid and c.conrelid = i.indrelid
     where i.indrelid = '${table}'::regclass
       and not exists (select 1 from pg_catalog.pg_constraint as f
                        where f.contype = 'f' and f.conindid = i.indexrelid)
  loop
    if r.conname is not null then
      insert into bench.dropped_indexes
      values ('${table}', r.conname, format('alter table ${table} add constraint %I %s', r.conname, r.cdef), true);
      execute format('alter table ${table} drop constraint %I', r.conname);
    else
      -- a partitioned table's index reads 'on only parent': rebuilt that
      -- way it would not cascade to the partitions
      insert into bench.dropped_indexes values ('${table}', r.idx::text, replace(r.def, ' ON ONLY ', ' ON '), false);
      execute format('drop index %s', r.idx);
    end if;
  end loop;
end;
$$;`;

/** SQL: rebuild the indexes dropIndexes(table) saved (constraints first), with room to sort in memory. */
export const rebuildIndexes = (table) => `
set maintenance_work_mem = '1GB';
do $$
declare
  r record;
begin
  for r in select * from bench.dropped_indexes where tbl = '${table}'::regclass order by is_constraint desc, name loop
    execute r.recreate;
  end loop;
  delete from bench.dropped_indexes where tbl = '${table}'::regclass;
end;
$$;`;

/**
 * Runs phases in order with ctx.sqlAsync (a promise) when the context has
 * one, else ctx.sql; returns [{ phase: '<label>: <name>', seconds }].
 */
export async function runPhases(ctx, label, phases) {
  const times = [];
  for (const p of phases) {
    const t0 = Date.now();
    if (ctx.sqlAsync) await ctx.sqlAsync(p.sql);
    else ctx.sql(p.sql);
    times.push({ phase: `${label}: ${p.name}`, seconds: (Date.now() - t0) / 1000 });
  }
  return times;
}

/** SQL: the uuid of a deterministic id with a fixed 24-character prefix and the integer SQL expression `n` in hex. */
export const sqlUuid = (prefix, n) => `('${prefix}' || lpad(to_hex(${n}), 12, '0'))::uuid`;

/** The same id in JS. */
export const jsUuid = (prefix, n) => `${prefix}${n.toString(16).padStart(12, '0')}`;
