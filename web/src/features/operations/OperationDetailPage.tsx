import { useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { OperationProgressSubscription } from '../../api/documents';
import {
  FileRecordsQuery,
  OperationQuery,
  OperationReportQuery,
  PurgeTrashMutation,
  RollbackOperationMutation,
} from './documents';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { OperationProgressView } from '../../components/OperationProgressView';
import { PagedFooter } from '../../components/PagedFooter';
import type { OperationFieldsFragment } from '../../gql/graphql';
import { useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { usePaged } from '../../hooks/usePaged';
import { recordProgress, useOperationProgress } from '../../live/progressStore';
import {
  durationBetween,
  folderLabel,
  formatBytes,
  formatCount,
  formatDateTime,
  formatDuration,
  isActiveStatus,
  operationTypeLabel,
  statusLabel,
} from '../../lib/format';
import { barShares } from '../../lib/plan';
import { PlanReview } from './PlanReview';
import { Link, navigate } from '../../router';

export function OperationDetailPage({ id }: { id: string }) {
  const [result, refetch] = useQuery({ query: OperationQuery, variables: { id } });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const op = result.data?.operation;
  useDocumentTitle(op ? operationTypeLabel(op.type) : 'Operation');

  if (result.error && !op) {
    return (
      <>
        <h1>Operation</h1>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      </>
    );
  }
  if (!op) {
    return result.fetching ? (
      <p role="status">Loading…</p>
    ) : (
      <>
        <h1>Operation not found</h1>
        <p>
          There is no operation with this id in your account. <Link to="/operations">All operations</Link>
        </p>
      </>
    );
  }
  return <OperationView key={op.id} op={op} />;
}

function OperationView({ op }: { op: OperationFieldsFragment }) {
  const live = useOperationProgress(op.id);
  const status = live?.progress.status ?? op.status;
  const active = isActiveStatus(status);

  // Snapshot first, then live; ends after the terminal event. Resubscribes after a reconnect.
  // The terminal event makes the operation, its report and records stale in the cache
  // (api/cacheUpdates.ts), so they are read again once, with the outcome.
  useSubscription({ query: OperationProgressSubscription, variables: { id: op.id }, pause: !isActiveStatus(op.status) }, (_p, data) => {
    recordProgress(data.operationProgress);
    return data;
  });

  const title = `${operationTypeLabel(op.type)}${op.dryRun ? ' (dry run)' : ''}`;
  const done = !isActiveStatus(op.status);
  return (
    <>
      <div className="page-head">
        <div>
          <nav aria-label="Breadcrumb">
            <ol className="breadcrumbs">
              <li>
                <Link to="/operations">Operations</Link>
              </li>
              <li>
                <span aria-current="page">{title}</span>
              </li>
            </ol>
          </nav>
          <h1>
            {title} <span className={`badge badge-${status.toLowerCase()}`}>{statusLabel(status)}</span>
          </h1>
          <p className="muted">
            {folderLabel(op.rootPath)} · started {formatDateTime(op.startedAt ?? op.createdAt)}
            {op.completedAt && ` · took ${formatDuration(durationBetween(op.startedAt ?? op.createdAt, op.completedAt))}`}
          </p>
          {op.planOf && (
            <p className="small">
              Carries out <Link to={`/operations/${op.planOf}`}>this plan</Link>.
            </p>
          )}
          {op.rollbackOf && (
            <p className="small">
              Undoes <Link to={`/operations/${op.rollbackOf}`}>this operation</Link>.
            </p>
          )}
        </div>
      </div>

      {(active || live) && live && (
        <section className="card" aria-labelledby="progress-heading">
          <h2 id="progress-heading">Progress</h2>
          <OperationProgressView entry={live} showDuplicates={op.type === 'DUPLICATE_CLEANUP'} />
        </section>
      )}
      {active && !live && (
        <section className="card">
          <h2>Progress</h2>
          <p role="status">Waiting for the first progress update…</p>
        </section>
      )}

      {op.status === 'FAILED' && op.errorMessage && (
        <div className="notice notice-error" role="alert">
          <strong>The operation failed:</strong> {op.errorMessage}
        </div>
      )}

      {done && op.dryRun && op.status === 'COMPLETED' && <PlanReview op={op} />}
      {done && <Report op={op} />}
      {done && !op.dryRun && <Actions op={op} />}
      {done && !op.dryRun && op.type !== 'DUPLICATE_CLEANUP' && <RecordsTable op={op} />}
    </>
  );
}

function Report({ op }: { op: OperationFieldsFragment }) {
  const [result, refetch] = useQuery({ query: OperationReportQuery, variables: { id: op.id } });
  const report = result.data?.operationReport;
  if (result.error) return <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!report) return null;
  const bars = barShares(report.categories, (c) => c.files);
  const maxBytes = Math.max(0, ...report.categories.map((c) => c.bytes));
  return (
    <section className="card" aria-labelledby="report-heading">
      <h2 id="report-heading">{op.dryRun ? 'What the plan covers' : 'Report'}</h2>
      <dl className="stats">
        <div>
          <dt>{op.dryRun ? 'Would move' : 'Moved'}</dt>
          <dd>{op.filesProcessed.toLocaleString('en-US')}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd>{op.filesSkipped.toLocaleString('en-US')}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{report.filesFailed.toLocaleString('en-US')}</dd>
        </div>
        {op.type === 'DUPLICATE_CLEANUP' && (
          <>
            <div>
              <dt>Duplicates</dt>
              <dd>{report.duplicatesFound.toLocaleString('en-US')}</dd>
            </div>
            <div>
              <dt>{op.dryRun ? 'Would free' : 'Space saved'}</dt>
              <dd>{formatBytes(report.spaceSavedBytes)}</dd>
            </div>
          </>
        )}
      </dl>
      {bars.length > 0 && (
        <figure className="chart">
          <figcaption>Files per category</figcaption>
          <table className="bar-table">
            <thead className="visually-hidden">
              <tr>
                <th scope="col">Category</th>
                <th scope="col">Files</th>
                <th scope="col">Size</th>
              </tr>
            </thead>
            <tbody>
              {bars.map(({ item, share }) => (
                <tr key={item.category}>
                  <th scope="row">{item.category}</th>
                  <td className="bar-cell">
                    <span className="bar" style={{ width: `${Math.max(share, 1)}%` }} aria-hidden="true" />
                    <span className="bar-value">{item.files.toLocaleString('en-US')}</span>
                  </td>
                  <td className="num muted">
                    <span className="bar bar-bytes" style={{ width: `${maxBytes ? Math.max((item.bytes / maxBytes) * 100, 1) : 0}%` }} aria-hidden="true" />
                    {formatBytes(item.bytes)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </figure>
      )}
      {report.folders.length > 1 && (
        <details className="folder-counts">
          <summary>Files per folder they came from ({report.folders.length})</summary>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Folder</th>
                <th scope="col" className="num">
                  Files
                </th>
                <th scope="col" className="num">
                  Size
                </th>
              </tr>
            </thead>
            <tbody>
              {report.folders.slice(0, 20).map((f) => (
                <tr key={f.folder}>
                  <td className="path">{folderLabel(f.folder)}</td>
                  <td className="num">{f.files.toLocaleString('en-US')}</td>
                  <td className="num muted">{formatBytes(f.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      {report.statuses.length > 0 && (
        <p className="small muted">
          Records:{' '}
          {report.statuses.map((s, i) => (
            <span key={s.status}>
              {i > 0 && ', '}
              {s.files} {s.status.toLowerCase()}
            </span>
          ))}
        </p>
      )}
      {report.skipped.length > 0 && (
        <div>
          <h3>Why files were skipped</h3>
          <ul className="reasons">
            {report.skipped.map((s) => (
              <li key={s.reason}>
                <strong>{formatCount(s.files, 'file')}</strong>: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function Actions({ op }: { op: OperationFieldsFragment }) {
  const [dialog, setDialog] = useState<null | 'rollback' | 'purge'>(null);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [rollbackState, rollback] = useMutation(RollbackOperationMutation);
  const [purgeState, purge] = useMutation(PurgeTrashMutation);
  const cleanup = op.type === 'DUPLICATE_CLEANUP';
  const canRollback = op.type !== 'ROLLBACK' && !op.trashPurgedAt && op.filesProcessed + op.duplicatesFound > 0;
  const canPurge = cleanup && !op.trashPurgedAt && op.duplicatesFound > 0;
  if (!canRollback && !canPurge && !op.trashPurgedAt) return null;
  const moved = cleanup ? op.duplicatesFound : op.filesProcessed;

  return (
    <section className="card" aria-labelledby="actions-heading">
      <h2 id="actions-heading">Undo or finish</h2>
      {op.trashPurgedAt && (
        <p>The trash of this cleanup was deleted for good on {formatDateTime(op.trashPurgedAt)}; it can no longer be rolled back.</p>
      )}
      <div className="row">
        {canRollback && (
          <button type="button" className="btn" onClick={() => setDialog('rollback')}>
            Roll back…
          </button>
        )}
        {canPurge && (
          <button type="button" className="btn btn-danger" onClick={() => setDialog('purge')}>
            Delete trash for good…
          </button>
        )}
      </div>
      <ErrorNotice errors={errors} />
      <ConfirmDialog
        open={dialog === 'rollback'}
        title="Roll back this operation?"
        confirmLabel="Roll back"
        busy={rollbackState.fetching}
        onCancel={() => setDialog(null)}
        onConfirm={async () => {
          const result = await rollback({ id: op.id });
          setDialog(null);
          setErrors(describeErrors(result.error));
          if (result.data?.rollbackOperation) navigate(`/operations/${result.data.rollbackOperation.id}`);
        }}
      >
        <p>
          {cleanup
            ? `Moves ${formatCount(moved, 'file')} back from the trash to where they were.`
            : `Moves ${formatCount(moved, 'file')} back to where they were.`}{' '}
          Files changed since are skipped.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'purge'}
        title="Delete the trash for good?"
        confirmLabel="Delete for good"
        danger
        busy={purgeState.fetching}
        onCancel={() => setDialog(null)}
        onConfirm={async () => {
          const result = await purge({ operationId: op.id });
          setDialog(null);
          setErrors(describeErrors(result.error));
          // The same operation comes back purged (the cache has it), or a new one runs the purge.
          if (result.data && result.data.purgeTrash.id !== op.id) navigate(`/operations/${result.data.purgeTrash.id}`);
        }}
      >
        <p>
          Deletes {formatCount(op.duplicatesFound, 'file')} ({formatBytes(op.spaceSavedBytes)}) for good. This cleanup can no
          longer be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function RecordsTable({ op }: { op: OperationFieldsFragment }) {
  const paged = usePaged(FileRecordsQuery, { operationId: op.id, first: 100 }, (d) => d.fileRecords);
  if (paged.nodes.length === 0 && !paged.error) return null;
  return (
    <section className="card" aria-labelledby="records-heading">
      <details>
        <summary>
          <h2 id="records-heading" className="inline-heading">
            Files ({paged.total})
          </h2>
        </summary>
        <ErrorNotice errors={describeErrors(paged.error)} onRetry={paged.reload} />
        <ul className="plan-list">
          {paged.nodes.map((r) => (
            <li key={r.id}>
              <span className={`badge badge-rec-${r.status.toLowerCase()}`}>{r.status.toLowerCase()}</span>{' '}
              <span className="path">{r.originalPath}</span>
              {r.newPath && r.newPath !== r.originalPath && (
                <>
                  <span className="arrow" aria-label="to">
                    →
                  </span>
                  <span className="path">{r.newPath}</span>
                </>
              )}
              {r.errorMessage && <span className="muted small"> — {r.errorMessage}</span>}
            </li>
          ))}
        </ul>
        <PagedFooter paged={paged} noun="files" />
      </details>
    </section>
  );
}
