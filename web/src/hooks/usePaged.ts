import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, type AnyVariables, type CombinedError, type TypedDocumentNode } from 'urql';

interface Conn<N> {
  nodes: N[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/** Loads a connection page by page, keeping every loaded node (for "Load more"). */
export function usePaged<D, V extends AnyVariables & { after?: string | null }, N>(
  query: TypedDocumentNode<D, V>,
  variables: V,
  select: (data: D) => Conn<N>,
  pause = false,
) {
  const client = useClient();
  const [nodes, setNodes] = useState<N[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [fetching, setFetching] = useState(!pause);
  const [error, setError] = useState<CombinedError | null>(null);
  const key = JSON.stringify(variables);
  const selectRef = useRef(select);
  useEffect(() => {
    selectRef.current = select;
  });
  const generation = useRef(0);

  const load = useCallback(
    async (after: string | null, reset: boolean) => {
      const gen = generation.current;
      const result = await client
        .query(query, { ...(JSON.parse(key) as V), after }, { requestPolicy: 'network-only' })
        .toPromise();
      if (gen !== generation.current) return;
      setFetching(false);
      setError(result.error ?? null);
      if (!result.data) return;
      const conn = selectRef.current(result.data);
      setNodes((prev) => (reset ? conn.nodes : [...prev, ...conn.nodes]));
      setTotal(conn.totalCount);
      setCursor(conn.pageInfo.endCursor ?? null);
      setHasMore(conn.pageInfo.hasNextPage);
    },
    [client, query, key],
  );

  const reload = useCallback(() => {
    generation.current++;
    setFetching(true);
    void load(null, true);
  }, [load]);

  useEffect(() => {
    if (pause) return;
    generation.current++;
    void load(null, true);
  }, [load, pause]);

  return {
    nodes,
    total,
    hasMore,
    fetching,
    error,
    loadMore: () => {
      setFetching(true);
      void load(cursor, false);
    },
    reload,
  };
}

/**
 * Where a list paged by cursors stands, a page at a time: the cursor to ask with, a way
 * back to the first page, and the `PageNav` props for the connection that came back.
 */
export function useCursorPages(pageSize: number) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length;
  return {
    after: cursors[page - 1],
    reset: () => setCursors([null]),
    nav: (conn: Conn<unknown>) => ({
      page,
      pageSize,
      shown: conn.nodes.length,
      total: conn.totalCount,
      hasNext: conn.pageInfo.hasNextPage,
      onPrevious: () => setCursors((c) => c.slice(0, -1)),
      onNext: () => setCursors((c) => [...c, conn.pageInfo.endCursor ?? null]),
    }),
  };
}
