-- Reference data, applied after the migrations by `supabase db push --include-seed`
-- (and by `supabase db reset` on a Docker stack). Every statement is idempotent.
-- Later domains add their reference rows here.
select 1;
