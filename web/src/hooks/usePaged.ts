import { useMemo, useState } from 'react';
import { useQuery, type AnyVariables, type TypedDocumentNode } from 'urql';

interface Conn<N> {
  nodes: N[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/**
 * Loads a connection page by page, keeping every loaded node (for "Load more"): the
 * cache merges the pages of its field (relayPagination in api/cache.ts), so the result
 * for the last cursor holds them all. New `variables` start again from the first page.
 */
export function usePaged<D, V extends AnyVariables & { after?: string | null }, N>(
  query: TypedDocumentNode<D, V>,
  variables: V,
  select: (data: D) => Conn<N>,
) {
  const key = JSON.stringify(variables);
  const [more, setMore] = useState<{ key: string; after: string | null }>({ key, after: null });
  const after = more.key === key ? more.after : null;
  const withCursor = useMemo(() => ({ ...(JSON.parse(key) as V), after }), [key, after]);
  const [result, reexecute] = useQuery({ query, variables: withCursor });
  const conn = result.data ? select(result.data) : null;

  return {
    nodes: conn?.nodes ?? [],
    total: conn?.totalCount ?? null,
    hasMore: conn?.pageInfo.hasNextPage ?? false,
    fetching: result.fetching,
    error: result.error ?? null,
    loadMore: () => {
      if (conn?.pageInfo.endCursor) setMore({ key, after: conn.pageInfo.endCursor });
    },
    reload: () => reexecute({ requestPolicy: 'network-only' }),
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
