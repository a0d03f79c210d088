/** "Showing n of total" and a button to load more, under a paged list. */
export function PagedFooter({ paged, noun }: { paged: { nodes: unknown[]; total: number | null; hasMore: boolean; fetching: boolean; loadMore: () => void }; noun: string }) {
  if (paged.fetching && paged.nodes.length === 0) return <p role="status">Loading…</p>;
  if (!paged.hasMore) return null;
  return (
    <div className="pager">
      <span className="muted">
        {paged.nodes.length} of {paged.total} {noun}
      </span>
      <button type="button" className="btn btn-small" onClick={paged.loadMore} disabled={paged.fetching}>
        {paged.fetching ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
