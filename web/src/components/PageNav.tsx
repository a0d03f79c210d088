/** Previous / “from–to of total” / Next under a cursor-paged list; nothing while it all fits one page. */
export function PageNav({
  page,
  pageSize,
  shown,
  total,
  hasNext,
  onPrevious,
  onNext,
}: {
  page: number;
  pageSize: number;
  shown: number;
  total: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  if (page <= 1 && !hasNext) return null;
  const from = (page - 1) * pageSize + 1;
  return (
    <div className="pager">
      <button type="button" className="btn btn-small" disabled={page <= 1} onClick={onPrevious}>
        Previous
      </button>
      <span className="muted">
        {from}–{from + shown - 1} of {total}
      </span>
      <button type="button" className="btn btn-small" disabled={!hasNext} onClick={onNext}>
        Next
      </button>
    </div>
  );
}
