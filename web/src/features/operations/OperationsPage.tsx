import { useState } from 'react';
import { useQuery } from 'urql';
import { OperationsQuery } from '../../api/documents';
import { describeErrors } from '../../api/errors';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageNav } from '../../components/PageNav';
import type { OperationStatus, OperationType } from '../../gql/graphql';
import { useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { useCursorPages } from '../../hooks/usePaged';
import { folderLabel, formatBytes, formatDateTime, operationTypeLabel, statusLabel } from '../../lib/format';
import { Link } from '../../router';
import { useLiveProgress } from '../../live/progressStore';

const PAGE = 25;

export function OperationsPage() {
  useDocumentTitle('Operations');
  const [status, setStatus] = useState<OperationStatus | ''>('');
  const [type, setType] = useState<OperationType | ''>('');
  const pages = useCursorPages(PAGE);
  const [result, refetch] = useQuery({
    query: OperationsQuery,
    variables: { first: PAGE, after: pages.after, status: status || null, type: type || null },
  });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const live = useLiveProgress();
  const conn = result.data?.operations;

  return (
    <>
      <div className="page-head">
        <h1>Operations</h1>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter operations">
          <div className="field field-inline">
            <label htmlFor="filter-type">Type</label>
            <select
              id="filter-type"
              value={type}
              onChange={(e) => {
                setType(e.target.value as OperationType | '');
                pages.reset();
              }}
            >
              <option value="">All</option>
              <option value="ORGANIZE">Organize</option>
              <option value="DUPLICATE_CLEANUP">Duplicate cleanup</option>
              <option value="ROLLBACK">Rollback</option>
            </select>
          </div>
          <div className="field field-inline">
            <label htmlFor="filter-status">Status</label>
            <select
              id="filter-status"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as OperationStatus | '');
                pages.reset();
              }}
            >
              <option value="">All</option>
              <option value="PENDING">Pending</option>
              <option value="RUNNING">Running</option>
              <option value="COMPLETED">Completed</option>
              <option value="FAILED">Failed</option>
              <option value="CANCELLED">Cancelled</option>
            </select>
          </div>
        </form>
      </div>
      <section className="card" aria-labelledby="history-heading">
        <div className="card-head">
          <h2 id="history-heading">History</h2>
          <span className="muted">{conn ? `${conn.totalCount} operations` : result.fetching ? 'Loading…' : ''}</span>
        </div>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
        {conn && conn.totalCount === 0 && (
          <p className="empty">
            No operations yet. Start one from <Link to="/files">your files</Link>.
          </p>
        )}
        {conn && conn.nodes.length > 0 && (
          <div className="table-wrap">
            <table className="table ops-table">
              <thead>
                <tr>
                  <th scope="col">Operation</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" className="num hide-narrow">
                    Files
                  </th>
                  <th scope="col" className="num hide-narrow">
                    Saved
                  </th>
                  <th scope="col" className="hide-narrow">
                    Started
                  </th>
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((op) => {
                  const liveStatus = live.get(op.id)?.progress.status ?? op.status;
                  return (
                    <tr key={op.id}>
                      <td>
                        <Link to={`/operations/${op.id}`}>
                          {operationTypeLabel(op.type)}
                          {op.dryRun ? ' (dry run)' : ''}
                        </Link>
                        <div className="muted small">{folderLabel(op.rootPath)}</div>
                      </td>
                      <td>
                        <span className={`badge badge-${liveStatus.toLowerCase()}`}>{statusLabel(liveStatus)}</span>
                        {op.trashPurgedAt && <span className="badge badge-neutral">Trash purged</span>}
                      </td>
                      <td className="num hide-narrow">
                        {op.filesProcessed}
                        {op.filesSkipped ? <span className="muted"> (+{op.filesSkipped} skipped)</span> : null}
                      </td>
                      <td className="num hide-narrow">{op.spaceSavedBytes ? formatBytes(op.spaceSavedBytes) : '—'}</td>
                      <td className="hide-narrow muted">{formatDateTime(op.createdAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {conn && (
          <PageNav {...pages.nav(conn)} />
        )}
      </section>
    </>
  );
}
