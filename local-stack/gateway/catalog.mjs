// A schema cache that reloads on demand, shared by the RPC and table catalogs.
// PostgREST reloads its cache on NOTIFY pgrst, which Supabase's DDL event
// triggers send; the local baseline has no such triggers, so a request for a
// function or relation the cache does not know also waits for a load that
// started after the request arrived (at most one load a second, coalesced)
// before it answers 404 — it never answers from a cache older than the
// object it asks for.
export function createCatalog(loadOnce) {
  let value = null;
  let loadedFrom = 0; // when the load that produced `value` started
  let lastLoad = 0;
  let loading = null;

  async function load() {
    const started = Date.now();
    const next = await loadOnce();
    value = next;
    loadedFrom = started;
    lastLoad = Date.now();
  }

  /** Starts a load, or joins the one in flight. */
  function reload() {
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  }

  /** Resolves once the cache comes from a load that started at or after `since`. */
  async function freshSince(since) {
    while (loadedFrom < since) {
      if (loading) {
        await loading;
        continue;
      }
      const wait = lastLoad + 1000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (loadedFrom < since) await reload();
    }
  }

  return {
    get: () => value,
    reload,
    freshSince,
  };
}
