import { useCallback, useEffect, useState } from "react";
import type { ApiError } from "../api/client";

/** Loads once (and on `reload`): data, the ApiError if it failed, loading flag. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(true);
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    setLoading(true);
    setError(undefined);
    run()
      .then(setData, setError)
      .finally(() => setLoading(false));
  }, [run]);
  useEffect(reload, [reload]);
  return { data, error, loading, reload, setData };
}
