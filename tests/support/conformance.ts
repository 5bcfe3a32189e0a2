// The PostgREST conformance suite's case list (tests/postgrest-conformance*.ts):
// one entry per behaviour, with the PostgREST source it was checked against
// and what the local gateway must do: answer as PostgREST does (`same`), or
// refuse loudly with 501 LOCAL501 (`501`). docs/functions.md carries this
// list as a table, written by local-stack/gen-conformance.mjs and checked for
// drift by tests/postgrest-conformance-docs.test.ts.
//
// Self-contained on purpose (no imports): the generator loads it with the
// TypeScript compiler alone.
//
// Sources are PostgREST v14.17 (what Supabase runs; v12 and v13 answer the
// same unless a case says otherwise): `XSpec "…"` is a test of
// test/spec/Feature/Query/XSpec.hs, `docs x.rst "…"` a section of
// docs/references/api/x.rst.

export type Gateway = 'same' | '501';

export interface ConformanceCase {
  id: string;
  behaviour: string;
  source: string;
  gateway: Gateway;
}

/**
 * The rows both query fixtures hold: the set-returning function `rows()` and
 * the table `items` (which adds `meta jsonb` = {"k": id}).
 */
export const fixtureRows = [
  { id: 1, name: 'apple', score: 10, flag: true },
  { id: 2, name: 'Banana', score: 20, flag: false },
  { id: 3, name: 'cherry', score: null, flag: null },
  { id: 4, name: 'date', score: 40, flag: true },
  { id: 5, name: 'elder', score: 20, flag: null },
] as const;

/** A query string applied to the fixture rows, and the ids it returns in order. */
export interface QueryCase {
  key: string;
  behaviour: string;
  source: string;
  /** Query strings and the ids each returns; `order=id` is added unless the query orders. */
  queries: Array<[string, number[]]>;
}

const operators = 'docs tables_views.rst "Operators"';

export const filterCases: QueryCase[] = [
  { key: 'filter.eq', behaviour: '`col=eq.v`', source: operators, queries: [['name=eq.apple', [1]]] },
  { key: 'filter.neq', behaviour: '`col=neq.v` (NULLs do not match)', source: operators, queries: [['score=neq.20', [1, 4]]] },
  { key: 'filter.gt_lt', behaviour: '`gt`/`lt`, two filters on one column both apply', source: 'RpcSpec "can filter proc results"', queries: [['score=gt.10&score=lt.40', [2, 5]], ['id=gt.1&id=lt.4', [2, 3]]] },
  { key: 'filter.gte_lte', behaviour: '`gte`/`lte`', source: operators, queries: [['score=gte.20', [2, 4, 5]], ['score=lte.20', [1, 2, 5]]] },
  { key: 'filter.like', behaviour: '`like` with `*` as `%`, case-sensitive', source: 'docs tables_views.rst "Pattern Matching"', queries: [['name=like.*an*', [2]], ['name=like.b*', []]] },
  { key: 'filter.ilike', behaviour: '`ilike`, case-insensitive', source: 'docs tables_views.rst "Pattern Matching"', queries: [['name=ilike.*A*', [1, 2, 4]]] },
  { key: 'filter.is', behaviour: '`is.null`, `is.true`, `is.false`', source: operators, queries: [['flag=is.null', [3, 5]], ['flag=is.true', [1, 4]], ['flag=is.false', [2]]] },
  { key: 'filter.in', behaviour: '`in.(…)` with bare and quoted values', source: operators, queries: [['id=in.(1,3,5)', [1, 3, 5]], ['name=in.("apple",date)', [1, 4]]] },
  { key: 'filter.not', behaviour: '`not.` negates an operator', source: 'docs tables_views.rst "Logical operators"', queries: [['name=not.eq.apple', [2, 3, 4, 5]], ['id=not.in.(1,2)', [3, 4, 5]], ['score=not.is.null', [1, 2, 4, 5]]] },
  { key: 'filter.or', behaviour: '`or=(…)`', source: 'AndOrParamsSpec / docs tables_views.rst "Logical operators"', queries: [['or=(id.eq.1,score.gt.30)', [1, 4]]] },
  { key: 'filter.and', behaviour: '`and=(…)`, nested in `or`, and `not.or`', source: 'AndOrParamsSpec / docs tables_views.rst "Logical operators"', queries: [['and=(score.gte.20,flag.is.null)', [5]], ['or=(id.eq.1,and(score.eq.20,flag.is.false))', [1, 2]], ['not.or=(id.eq.1,id.eq.2)', [3, 4, 5]]] },
];

const ordering = 'docs tables_views.rst "Ordering"';

export const orderCases: QueryCase[] = [
  { key: 'order.desc', behaviour: '`order=col.desc,col2` (desc puts NULLs first, as PostgreSQL)', source: ordering, queries: [['order=score.desc,id', [3, 4, 2, 5, 1]]] },
  { key: 'order.asc', behaviour: '`order=col.asc,col2.desc` (asc puts NULLs last)', source: ordering, queries: [['order=score.asc,id.desc', [1, 5, 2, 4, 3]]] },
  { key: 'order.nulls', behaviour: '`nullsfirst` / `nullslast`', source: ordering, queries: [['order=score.nullsfirst,id', [3, 1, 2, 5, 4]], ['order=score.desc.nullslast,id', [4, 2, 5, 1, 3]]] },
];

const rpcOnPostAndGet = (c: QueryCase): ConformanceCase => ({
  id: `rpc.${c.key}`,
  behaviour: `RPC result (POST and GET): ${c.behaviour}`,
  source: `${c.source}; docs functions.rst "Table-Valued Functions"`,
  gateway: 'same',
});

const onTable = (c: QueryCase): ConformanceCase => ({
  id: `table.${c.key}`,
  behaviour: `table GET: ${c.behaviour}`,
  source: c.source,
  gateway: 'same',
});

/** Cases run against both fixtures (rows() and items), one id each. */
const sharedCases = (prefix: 'rpc' | 'table', rpcSuffix: string): ConformanceCase[] => {
  const on = (what: string) => (prefix === 'rpc' ? `RPC result${rpcSuffix}: ${what}` : `table GET: ${what}`);
  return [
    { id: `${prefix}.select.columns`, behaviour: on('`select=a,b` picks columns; JSON array, `Content-Type: application/json; charset=utf-8`'), source: 'RpcSpec "select works on the first level"; docs tables_views.rst "Vertical Filtering"', gateway: 'same' },
    { id: `${prefix}.select.alias`, behaviour: on('`select=alias:col` renames'), source: 'docs tables_views.rst "Renaming Columns"', gateway: 'same' },
    { id: `${prefix}.select.cast`, behaviour: on('`select=col::text` casts'), source: 'docs tables_views.rst "Casting Columns"', gateway: 'same' },
    { id: `${prefix}.select.unknown_column`, behaviour: on('an unknown column in `select` is 400 42703'), source: 'QuerySpec (42703 `column … does not exist`); docs errors.rst SQLSTATE table', gateway: 'same' },
    { id: `${prefix}.limit_offset`, behaviour: on('`limit` and `offset`: those rows, `Content-Range: 1-2/*`, 200'), source: 'RpcSpec "can limit proc results"; RangeSpec "limit and offset works on first level"', gateway: 'same' },
    { id: `${prefix}.limit_zero`, behaviour: on('`limit=0`: `[]`, `Content-Range: */*`'), source: 'RangeSpec "succeeds and returns an empty array if limit equals 0"', gateway: 'same' },
    { id: `${prefix}.offset_past_end`, behaviour: on('an offset past the end without a count: `[]`, `*/*`, 200'), source: 'Response.hs rangeStatusHeader (no total → 200); RangeSpec "returns range Content-Range with */* for empty range"', gateway: 'same' },
    { id: `${prefix}.range_header`, behaviour: on('GET `Range: 1-2` and open-ended `Range: 3-`: those rows, 200 without a count'), source: 'RangeSpec "succeeds with partial content", "understands open-ended ranges"', gateway: 'same' },
    { id: `${prefix}.range_header_and_limit`, behaviour: on('GET `Range` and `limit` together: the narrower of both'), source: 'RangeSpec "headers override get parameters"', gateway: 'same' },
    { id: `${prefix}.range.negative_limit`, behaviour: on('`limit=-1` is 416 PGRST103 "Limit should be greater than or equal to zero."'), source: 'RangeSpec "fails if limit is negative"', gateway: 'same' },
    { id: `${prefix}.range.inverted`, behaviour: on('`Range: 2-1` is 416 PGRST103 (lower boundary after upper)'), source: 'RangeSpec "fails with 416 for offside range"', gateway: 'same' },
    { id: `${prefix}.range.unsatisfiable`, behaviour: on('an offset past the end with `count=exact` is 416 PGRST103, `Content-Range: */5`'), source: 'RangeSpec "refuses a range requesting start past last item"', gateway: 'same' },
    { id: `${prefix}.count.exact_partial`, behaviour: on('`Prefer: count=exact` with a limit: 206, `Content-Range: 0-1/5`'), source: 'RpcSpec "includes total count if requested"; docs pagination_count.rst "Exact Count"', gateway: 'same' },
    { id: `${prefix}.count.exact_full`, behaviour: on('`count=exact` covering every row: 200, `0-4/5`'), source: 'RpcSpec "includes exact count if requested"; RangeSpec "obtains the full range"', gateway: 'same' },
    { id: `${prefix}.count.exact_tail`, behaviour: on('`count=exact` from an offset to the end: 206, `3-4/5`'), source: 'Response.hs rangeStatusHeader (206 when fewer rows than the total)', gateway: 'same' },
    { id: `${prefix}.count.empty`, behaviour: on('`count=exact` and no rows: `[]`, `Content-Range: */0`'), source: 'RangeSpec "returns empty body with Content-Range */0"', gateway: 'same' },
    { id: `${prefix}.count.estimated_small`, behaviour: on('`count=estimated` at or under max_rows is the exact count'), source: 'QueryLimitedSpec "gives exact count when query rows <= maxRows"; docs pagination_count.rst "Estimated Count"', gateway: 'same' },
    { id: `${prefix}.count.head`, behaviour: on('supabase-js `{ head: true, count: \'exact\' }`: HEAD, no body, `count` is the number 5'), source: 'RpcSpec "includes exact count if requested" (HEAD); RangeSpec "limit and offset works on first level" (HEAD)', gateway: 'same' },
    { id: `${prefix}.count.preference_applied`, behaviour: on('`Prefer: count=exact` is echoed in `Preference-Applied: count=exact`'), source: 'Response.hs responsePreferences (v12–v14 echo the count preference on reads and calls)', gateway: 'same' },
    { id: `${prefix}.repeated_params`, behaviour: on('a repeated `select` takes the first value, a repeated `limit` the last'), source: 'QueryParams.hs parse (`lookupParam` is `L.lookup`; limits go through `HM.fromList`)', gateway: 'same' },
    { id: `${prefix}.supabase_js_chain`, behaviour: on('supabase-js `.select().eq().order().limit().range()` with `count`'), source: 'postgrest-js 2.109 `range()` sends `offset`/`limit`; RpcSpec "can limit proc results"', gateway: 'same' },
  ];
};

const maxRows = '[api] max_rows = 1000 → db-max-rows; Plan.hs treeRestrictRange';

export const cases: ConformanceCase[] = [
  // RPC: the query string applies to a set-returning function's result.
  ...filterCases.map(rpcOnPostAndGet),
  ...orderCases.map(rpcOnPostAndGet),
  ...sharedCases('rpc', ' (POST and GET)'),
  { id: 'rpc.args_and_filters', behaviour: 'RPC GET: arguments and filters share the query string (names that are arguments bind, others filter)', source: 'RpcSpec "should filter a proc that has arg name = filter name"', gateway: 'same' },
  { id: 'rpc.range_header_post', behaviour: 'RPC POST ignores the `Range` header (`Content-Range: 0-4/5` with a count)', source: 'RpcSpec "ignores Range header when method is different than GET"', gateway: 'same' },
  { id: 'rpc.count.planned', behaviour: 'RPC: `count=planned` gives no total (`Content-Range: 0-4/*`); `count=estimated` counts exactly', source: 'Query.hs mainQuery (the planned-count EXPLAIN runs for WrappedReadPlan only); Statements.hs mainCall', gateway: 'same' },
  { id: 'rpc.count.scalar', behaviour: 'RPC: `count=exact` on a scalar function: `Content-Range: 0-0/1`', source: 'RpcSpec "includes exact count of 1 for functions that return a single scalar, domain or composite"', gateway: 'same' },
  { id: 'rpc.supabase_js_get', behaviour: 'RPC: supabase-js `{ get: true }` with `.select().eq().order().limit()` returns what POST returns', source: 'RpcSpec "can filter proc results" (GET and POST)', gateway: 'same' },

  // max_rows
  { id: 'max_rows.rpc', behaviour: 'max_rows caps an RPC result: 1000 of 1500 rows, `Content-Range: 0-999/*`, 200', source: `${maxRows}; QueryLimitedSpec "restricts results"`, gateway: 'same' },
  { id: 'max_rows.rpc_count', behaviour: 'max_rows with `count=exact`: 206, `0-999/1500`', source: `${maxRows}; Response.hs rangeStatusHeader`, gateway: 'same' },
  { id: 'max_rows.limit', behaviour: 'max_rows and `limit`: a smaller limit wins, a larger one is capped', source: `${maxRows} (range ∩ [offset, offset+max_rows-1]); QueryLimitedSpec "respects additional client limiting"`, gateway: 'same' },
  { id: 'max_rows.offset', behaviour: 'max_rows counts from the offset: `offset=900` returns rows 901–1500, `900-1499/*`', source: `${maxRows}; RangeQuery.hs restrictRange`, gateway: 'same' },
  { id: 'max_rows.table', behaviour: 'max_rows caps a table read: 1000 of 1200 rows; with `count=exact` 206 `0-999/1200`', source: `${maxRows}; QueryLimitedSpec "restricts results"`, gateway: 'same' },
  { id: 'max_rows.count_planned', behaviour: 'table `count=planned`: the planner\'s row estimate as the total (206 `0-9/1200` on an analyzed table)', source: 'RangeSpec "when count=planned"; docs pagination_count.rst "Planned Count"', gateway: 'same' },
  { id: 'max_rows.count_estimated', behaviour: 'table `count=estimated` above max_rows: the larger of exact and planned', source: 'MainTx.hs EstimatedCount; QueryLimitedSpec "uses the query planner guess when query rows > maxRows"', gateway: 'same' },
  { id: 'max_rows.mutations', behaviour: 'max_rows does not cap insert, update or delete representations (1100 rows each)', source: 'QueryLimitedSpec "max-rows=2 on mutations"; Plan.hs treeRestrictRange skips ActRelationMut', gateway: 'same' },

  // Shapes
  { id: 'shape.single_out', behaviour: 'a function with one OUT parameter returns an object keyed by its name', source: 'RpcSpec "returns an object result when there is a single OUT param"', gateway: 'same' },
  { id: 'shape.single_inout', behaviour: 'one INOUT parameter: an object keyed by its name', source: 'RpcSpec "returns an object result when there is a single INOUT param"', gateway: 'same' },
  { id: 'shape.many_out', behaviour: 'several OUT parameters: one object', source: 'RpcSpec "returns an object result when there are many OUT params"', gateway: 'same' },
  { id: 'shape.table_one_column', behaviour: '`RETURNS TABLE (a text)`: an array of objects', source: 'RpcSpec "returns an object result when there is a single-column TABLE return type"', gateway: 'same' },
  { id: 'shape.set_cookie_twice', behaviour: 'two `Set-Cookie` values in `response.headers` stay two headers (void → 204)', source: 'RpcSpec "can set the same http header twice"', gateway: 'same' },
  { id: 'shape.repeated_param', behaviour: 'a repeated GET parameter of a non-variadic function takes the last value', source: 'RpcSpec "returns last value for repeated params without VARIADIC"', gateway: 'same' },
  { id: 'shape.char_bit_args', behaviour: '`char(n)`/`bit(n)` arguments are bound as `varchar`/`varbit` (GET and POST), not truncated', source: 'RpcSpec "modifies the param type from character to character varying", "… from bit to bit varying"', gateway: 'same' },
  { id: 'shape.variadic_get', behaviour: 'VARIADIC from repeated GET parameters (n=0 through DEFAULT, 1, >1) and from a POST array', source: 'RpcSpec "procs with VARIADIC params"', gateway: 'same' },
  { id: 'shape.status_text', behaviour: '`RAISE SQLSTATE \'PGRST\'` detail `status_text` sets the reason phrase; without it the standard one', source: 'RpcSpec "gets message and details from raise sqlstate PGRST", "… checks standard status message"', gateway: 'same' },
  { id: 'shape.response_status_text', behaviour: '`response.status` sets only the code: PostgREST completes the standard reason phrase (418 "I\'m a teapot"), an empty one for a code without one', source: 'docs transactions.rst "Response Status Code"; Response.hs decodeGucStatus (http-types `toEnum`)', gateway: 'same' },

  // Table reads
  ...filterCases.map(onTable),
  ...orderCases.map(onTable),
  ...sharedCases('table', ''),
  { id: 'table.select.star', behaviour: 'table GET: `select=*` (supabase-js default) returns every column', source: 'docs tables_views.rst "Vertical Filtering"', gateway: 'same' },
  { id: 'table.single', behaviour: '`.single()` (`Accept: application/vnd.pgrst.object+json`): one row → object; 0 or 2 rows → 406 PGRST116 "Cannot coerce the result to a single JSON object"', source: 'SingularSpec "raises an error for multiple rows", "fails for zero rows" (v13+; v12 said "JSON object requested, multiple (or no) rows returned")', gateway: 'same' },
  { id: 'table.maybe_single', behaviour: '`.maybeSingle()`: 0 rows → `data: null`, 200 (postgrest-js reads the array)', source: 'postgrest-js 2.109 `maybeSingle()` (plain GET, shaped client-side)', gateway: 'same' },
  { id: 'table.not_found', behaviour: 'an unknown table is 404 PGRST205 "Could not find the table \'public.x\' in the schema cache"', source: 'QuerySpec "Querying a nonexistent table causes a 404" (v13+; v12 answered 42P01)', gateway: 'same' },
  { id: 'table.read_only', behaviour: 'table GET runs READ ONLY: a view calling `nextval()` is 405 25006', source: 'docs transactions.rst "Access Mode on Tables and Views"', gateway: 'same' },
  { id: 'table.strip_nulls', behaviour: '`Accept: application/vnd.pgrst.array+json;nulls=stripped` (supabase-js `.stripNulls()`) drops null fields, on reads, RPC results and write representations; the object form too', source: 'NullsStripSpec "strips nulls when Accept: …"', gateway: 'same' },
  { id: 'table.view', behaviour: 'a view reads like a table (filters, order, count)', source: 'docs tables_views.rst "Tables and Views"', gateway: 'same' },

  // Table writes
  { id: 'insert.minimal', behaviour: 'POST one row, no `Prefer`: 201, no body, no `Content-Type`, no `Location`, `Content-Range: */*`', source: 'InsertSpec "ignores &select when return not set or using return=minimal", "requesting no representation"', gateway: 'same' },
  { id: 'insert.representation', behaviour: 'POST with `return=representation` and `select`: 201, the selected columns, `Preference-Applied`', source: 'InsertSpec "filters columns in result using &select"', gateway: 'same' },
  { id: 'insert.bulk', behaviour: 'POST an array (supabase-js adds `columns=`): 201, every row', source: 'InsertSpec "with bulk insert"; docs tables_views.rst "Bulk Insert", "Specifying Columns"', gateway: 'same' },
  { id: 'insert.headers_only', behaviour: '`return=headers-only`: 201, `Location: /table?id=eq.N`, `Content-Range: */*`, no body', source: 'InsertSpec "requesting headers only representation"', gateway: 'same' },
  { id: 'insert.count', behaviour: 'POST with `count=exact`: `Content-Range: */1`, `Preference-Applied: return=representation, count=exact`', source: 'InsertSpec "includes related data after insert" (Content-Range */1)', gateway: 'same' },
  { id: 'insert.missing_default', behaviour: '`Prefer: missing=default` (supabase-js `defaultToNull: false`): absent keys take column defaults', source: 'InsertSpec "inserts table default values(field-with_sep) when json keys are undefined"; docs preferences.rst "Missing"', gateway: 'same' },
  { id: 'insert.missing_null', behaviour: 'without `missing=default`, a bulk row lacking a `columns=` key inserts NULL', source: 'docs preferences.rst "Missing"', gateway: 'same' },
  { id: 'insert.single', behaviour: 'POST with `.select().single()`: 201 and an object', source: 'SingularSpec "works for one row with return=rep" (insert)', gateway: 'same' },
  { id: 'insert.conflict', behaviour: 'a duplicate key is 409 23505 with PostgreSQL\'s message (no key details on a table under RLS, as PostgreSQL hides them)', source: 'InsertSpec "fails returning a 409 Conflict"', gateway: 'same' },
  { id: 'insert.not_null', behaviour: 'a NULL in a NOT NULL column is 400 23502', source: 'InsertSpec "into a table with simple pk fails with 400 and error"', gateway: 'same' },
  { id: 'insert.unknown_column', behaviour: 'POST or PATCH with a key that is no column: 400 PGRST204 "Could not find the \'x\' column of \'table\' in the schema cache"', source: 'InsertSpec "disallows ?columns which don\'t exist"; UpdateSpec PGRST204; Plan.hs resolveOrError (payload keys are the columns)', gateway: 'same' },
  { id: 'insert.invalid_json', behaviour: 'an invalid body is 400 PGRST102 "Empty or invalid json"', source: 'InsertSpec "with invalid json payload"', gateway: 'same' },
  { id: 'upsert.merge_update', behaviour: 'upsert (`resolution=merge-duplicates`, `on_conflict`) updating existing rows: 200', source: 'UpsertSpec "UPDATEs rows on pk conflict"', gateway: 'same' },
  { id: 'upsert.merge_insert', behaviour: 'upsert inserting a new row: 201, `Preference-Applied: resolution=merge-duplicates, return=representation`', source: 'UpsertSpec "INSERTs and UPDATEs rows on single unique key conflict"', gateway: 'same' },
  { id: 'upsert.ignore', behaviour: '`resolution=ignore-duplicates`: 201, only the new rows, existing rows untouched', source: 'UpsertSpec "INSERTs and ignores rows on single unique key conflict"', gateway: 'same' },
  { id: 'upsert.no_constraint', behaviour: '`on_conflict` naming columns without a unique constraint: 400 42P10', source: 'docs tables_views.rst "On Conflict"; docs errors.rst SQLSTATE table (other 42xxx → 400)', gateway: 'same' },
  { id: 'update.minimal', behaviour: 'PATCH with a filter: 204, `Content-Range: 0-1/*` for two rows', source: 'UpdateSpec "can update multiple items"', gateway: 'same' },
  { id: 'update.representation', behaviour: 'PATCH with `return=representation`: 200 and the updated rows', source: 'UpdateSpec "returns updated object as array when return=rep"', gateway: 'same' },
  { id: 'update.none', behaviour: 'PATCH matching nothing: 204; with `return=representation` 200 `[]`', source: 'UpdateSpec "returns empty array when no rows updated and return=rep"', gateway: 'same' },
  { id: 'update.count', behaviour: 'PATCH with `count=exact`: `Content-Range: 0-1/2`', source: 'Response.hs MutationUpdate (contentRangeH 0 (n-1))', gateway: 'same' },
  { id: 'update.no_filter', behaviour: 'PATCH without a filter is 400 21000 "UPDATE requires a WHERE clause" (Supabase enables pg-safeupdate)', source: 'PgSafeUpdateSpec "does not update and throws error if no condition is present"; supabase/postgres safeupdate-data-api-enable', gateway: 'same' },
  { id: 'update.single_rollback', behaviour: 'PATCH with `.single()` touching 2 rows: 406 PGRST116 and nothing changes (the transaction rolls back)', source: 'SingularSpec "raises an error for multiple rows" (update); MainTx.hs failNotSingular', gateway: 'same' },
  { id: 'delete.minimal', behaviour: 'DELETE with a filter: 204, `Content-Range: */*`', source: 'DeleteSpec "succeeds with 204 and deletion count"', gateway: 'same' },
  { id: 'delete.representation', behaviour: 'DELETE with `return=representation` and `count=exact`: 200, the rows, `Content-Range: */2`', source: 'DeleteSpec "returns the deleted item and count if requested"', gateway: 'same' },
  { id: 'delete.no_filter', behaviour: 'DELETE without a filter is 400 21000 "DELETE requires a WHERE clause"', source: 'PgSafeUpdateSpec "does not delete and throws error if no condition is present"', gateway: 'same' },

  // Roles, RLS and grants
  { id: 'auth.request_settings', behaviour: 'table requests run as the request\'s role with `request.method` and `request.path` set, as RPCs do', source: 'docs transactions.rst "Request Path and Method", "Request Role and Search Path"', gateway: 'same' },
  { id: 'auth.rls_select', behaviour: 'reads run as the request\'s role: RLS shows a user only their own rows; service_role bypasses RLS', source: 'docs tables_views.rst; InsertSpec "Row level permission"', gateway: 'same' },
  { id: 'auth.rls_update', behaviour: 'PATCH of another user\'s row changes nothing (RLS filters it out)', source: 'UpdateSpec (RLS as PostgreSQL applies it)', gateway: 'same' },
  { id: 'auth.rls_check', behaviour: 'an insert failing a policy\'s WITH CHECK is 403 42501', source: 'docs errors.rst SQLSTATE table (42501 → 403 when authenticated)', gateway: 'same' },
  { id: 'auth.table_grant', behaviour: 'a table without a grant is 401 42501 for anon "permission denied for table …"', source: 'docs errors.rst SQLSTATE table (42501 → 401 as anon)', gateway: 'same' },
  { id: 'auth.column_grant', behaviour: 'a column without a grant (also through `select=*`) is refused: 401 anon, 403 user', source: 'InsertSpec "table with limited privileges"', gateway: 'same' },

  // Features PostgREST has and the gateway refuses (or PostgREST refuses too).
  { id: 'unsupported.embed', behaviour: 'resource embedding `select=*,other(*)` on a table: 501 LOCAL501', source: 'docs resource_embedding.rst', gateway: '501' },
  { id: 'unsupported.embed_rpc', behaviour: 'embedding on an RPC result: 501 LOCAL501', source: 'RpcSpec "foreign entities embedding"', gateway: '501' },
  { id: 'unsupported.spread', behaviour: 'spread `select=…,...rel(col)`: 501 LOCAL501', source: 'SpreadQueriesSpec', gateway: '501' },
  { id: 'table.json_path', behaviour: 'JSON paths `col->k` (aliased to the key) in select and `col->>k` in filters', source: 'docs tables_views.rst "JSON Columns"; Plan.hs addAliases', gateway: 'same' },
  { id: 'table.fts', behaviour: 'full-text search (`fts`, `wfts(config)`, supabase-js `.textSearch()`) on a text column reads it through `to_tsvector`', source: 'docs tables_views.rst "Full-Text Search"; Plan.hs resolveQueryInputField', gateway: 'same' },
  { id: 'table.contains', behaviour: '`cs` (supabase-js `.contains()`) on a jsonb column', source: operators, gateway: 'same' },
  { id: 'unsupported.csv', behaviour: '`Accept: text/csv` (supabase-js `.csv()`): 501 LOCAL501', source: 'docs resource_representation.rst "Builtin Media Type Handlers"', gateway: '501' },
  { id: 'unsupported.put', behaviour: 'PUT (single-row upsert by primary key): 501 LOCAL501', source: 'UpsertSpec "with PUT"', gateway: '501' },
  { id: 'aggregates.disabled', behaviour: 'aggregates (`col.sum()`, `count()`) on a table or RPC: 400 PGRST123 "Use of aggregate functions is not allowed" (disabled by default, also on Supabase)', source: 'AggregateFunctionsSpec "prevents the use of aggregates"', gateway: 'same' },
];

export const tableBegin = '<!-- conformance-table: generated by local-stack/gen-conformance.mjs from tests/support/conformance.ts -->';
export const tableEnd = '<!-- /conformance-table -->';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The Markdown table of the case list, one row per case. */
export function conformanceTable(list: ConformanceCase[] = cases): string {
  const rows = list.map((c) => `| \`${c.id}\` | ${cell(c.behaviour)} | ${cell(c.source)} | ${c.gateway} |`);
  return ['| case | PostgREST behaviour | source | gateway |', '|---|---|---|---|', ...rows].join('\n');
}

/** `doc` with the text between the table markers replaced by the current table; throws without the markers. */
export function withConformanceTable(doc: string, table: string = conformanceTable()): string {
  const begin = doc.indexOf(tableBegin);
  const end = doc.indexOf(tableEnd);
  if (begin < 0 || end < begin) throw new Error(`the conformance table markers are missing (${tableBegin} … ${tableEnd})`);
  return `${doc.slice(0, begin + tableBegin.length)}\n${table}\n${doc.slice(end)}`;
}
