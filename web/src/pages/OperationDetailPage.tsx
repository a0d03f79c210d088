import { useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  ApplyPlanMutation,
  DuplicateGroupsQuery,
  FileRecordsQuery,
  OperationProgressSubscription,
  OperationQuery,
  OperationReportQuery,
  PurgeTrashMutation,
  RollbackOperationMutation,
} from '../api/documents';
import { describeErrors, type FriendlyError } from '../api/errors';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorNotice } from '../components/ErrorNotice';
import { OperationProgressView } from '../components/OperationProgressView';
import { StartOperationForm } from '../components/StartOperationForm';
import type { FileRecordFieldsFragment, OperationFieldsFragment } from '../gql/graphql';
import { useDocumentTitle, useRefetchOnReconnect } from '../hooks';
import { usePaged } from '../hooks/usePaged';
import { recordProgress, useOperationProgress } from '../live/progressStore';
import { defaultOptions, recalledOptions } from '../lib/operationOptions';
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
} from '../lib/format';
import { barShares, groupByDestination, STAYS, summarizeDuplicates, trashedCopies, willMove } from '../lib/plan';
import { Link, navigate } from '../router';

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
  return <OperationView key={op.id} op={op} refetch={() => refetch({ requestPolicy: 'network-only' })} />;
}

function OperationView({ op, refetch }: { op: OperationFieldsFragment; refetch: () => void }) {
  const live = useOperationProgress(op.id);
  const status = live?.progress.status ?? op.status;
  const active = isActiveStatus(status);

  // Snapshot first, then live; ends after the terminal event. Resubscribes after a reconnect.
  useSubscription({ query: OperationProgressSubscription, variables: { id: op.id }, pause: !isActiveStatus(op.status) }, (_p, data) => {
    recordProgress(data.operationProgress);
    return data;
  });

  // When the live status turns terminal, reload the operation and what depends on it:
  // once at once, then every second until the loaded status is terminal too (at most 30
  // times). Keyed on that condition only: `refetch` is a new function at every render, and
  // each refetch renders (fetching), so depending on it would re-send the query without end.
  const refetchRef = useRef(refetch);
  useEffect(() => {
    refetchRef.current = refetch;
  });
  const behindLive = !active && isActiveStatus(op.status);
  useEffect(() => {
    if (!behindLive) return;
    refetchRef.current();
    let tries = 0;
    const timer = setInterval(() => {
      if (++tries >= 30) clearInterval(timer);
      else refetchRef.current();
    }, 1000);
    return () => clearInterval(timer);
  }, [behindLive]);

  // Reload the report when a live run ends.
  const finishedAt = !active && live ? live.receivedAt : 0;
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
      {done && <Report op={op} refreshKey={finishedAt} />}
      {done && !op.dryRun && <Actions op={op} onChanged={refetch} />}
      {done && !op.dryRun && op.type !== 'DUPLICATE_CLEANUP' && <RecordsTable op={op} />}
    </>
  );
}

function PlanReview({ op }: { op: OperationFieldsFragment }) {
  const [confirmApply, setConfirmApply] = useState(false);
  const [editing, setEditing] = useState(false);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [applyState, apply] = useMutation(ApplyPlanMutation);
  // Edits before applying: records left out, and the copy kept in a duplicate group.
  const [excluded, setExcluded] = useState<ReadonlySet<string>>(new Set());
  const [keep, setKeep] = useState<ReadonlyMap<string, string>>(new Map());
  const toggleExcluded = (id: string) =>
    setExcluded((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const chooseKept = (hash: string, id: string) => setKeep((m) => new Map(m).set(hash, id));
  const moves = (op.type === 'DUPLICATE_CLEANUP' ? op.duplicatesFound : op.filesProcessed) - excluded.size;
  const initial = recalledOptions(op.id) ?? defaultOptions(op.type === 'DUPLICATE_CLEANUP' ? 'DUPLICATE_CLEANUP' : 'ORGANIZE', op.rootPath);

  return (
    <section className="card" aria-labelledby="plan-heading">
      <div className="card-head">
        <h2 id="plan-heading">Review the plan</h2>
        <div className="row">
          <button type="button" className="btn" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>
            Change options…
          </button>
          <button type="button" className="btn btn-primary" onClick={() => setConfirmApply(true)} disabled={moves === 0}>
            Apply this plan
          </button>
        </div>
      </div>
      <p>
        {op.type === 'DUPLICATE_CLEANUP'
          ? `${formatCount(op.duplicatesFound, 'extra copy', 'extra copies')} would move to the trash, freeing ${formatBytes(op.spaceSavedBytes)}.`
          : `${formatCount(op.filesProcessed, 'file')} would move; ${formatCount(op.filesSkipped, 'file')} would stay.`}{' '}
        Nothing has moved yet.
      </p>
      {editing && (
        <div className="subcard">
          <h3>Plan again with other options</h3>
          <StartOperationForm
            initial={{ ...initial, dryRun: true }}
            fixedType
            submitLabel="Plan again (dry run)"
            onStarted={(next) => navigate(`/operations/${next.id}`)}
            onCancel={() => setEditing(false)}
          />
        </div>
      )}
      <ErrorNotice errors={errors} />
      {op.type === 'DUPLICATE_CLEANUP' ? (
        <DuplicatePlan op={op} keep={keep} onKeep={chooseKept} />
      ) : (
        <OrganizePlan op={op} excluded={excluded} onToggle={toggleExcluded} />
      )}
      <ConfirmDialog
        open={confirmApply}
        title="Apply this plan?"
        confirmLabel="Apply plan"
        busy={applyState.fetching}
        onCancel={() => setConfirmApply(false)}
        onConfirm={async () => {
          const result = await apply({ id: op.id, exclude: [...excluded], keep: [...keep.values()] });
          setConfirmApply(false);
          setErrors(describeErrors(result.error));
          if (result.data?.applyPlan) navigate(`/operations/${result.data.applyPlan.id}`);
        }}
      >
        <p>
          {op.type === 'DUPLICATE_CLEANUP'
            ? `Moves ${formatCount(moves, 'extra copy', 'extra copies')} (${formatBytes(op.spaceSavedBytes)}) to this cleanup's trash folder, exactly as planned.`
            : `Moves ${formatCount(moves, 'file')} exactly as planned${excluded.size ? `, leaving out the ${formatCount(excluded.size, 'file')} you chose` : ''}.`}{' '}
          {keep.size > 0 && `Keeps the copy you chose in ${formatCount(keep.size, 'group')}. `}
          Files changed since the plan are skipped. You can roll it back afterwards.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function OrganizePlan({
  op,
  excluded,
  onToggle,
}: {
  op: OperationFieldsFragment;
  excluded: ReadonlySet<string>;
  onToggle: (id: string) => void;
}) {
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setSearch(typed.trim()), 300);
    return () => clearTimeout(t);
  }, [typed]);
  const paged = usePaged(FileRecordsQuery, { operationId: op.id, first: 100, search: search || null }, (d) => d.fileRecords);
  const groups = groupByDestination(paged.nodes);
  return (
    <div className="plan">
      <input
        type="search"
        name="plan-search"
        className="plan-search"
        aria-label="Search the plan by path"
        placeholder="Search the plan…"
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
      />
      <ErrorNotice errors={describeErrors(paged.error)} onRetry={paged.reload} />
      {groups.map((g, i) => (
        <details key={g.folder} className="plan-group" open={i < 4}>
          <summary>
            <span className="plan-folder">{g.folder === STAYS ? STAYS : `→ ${folderLabel(g.folder)}`}</span>
            <span className="muted">
              {formatCount(g.records.length, 'file')}
              {paged.hasMore ? ' loaded' : ''} · {formatBytes(g.bytes)}
            </span>
          </summary>
          <ul className="plan-list">
            {g.records.map((r) => (
              <li key={r.id} className={excluded.has(r.id) ? 'plan-excluded' : undefined}>
                {willMove(r) && (
                  <input
                    type="checkbox"
                    checked={!excluded.has(r.id)}
                    onChange={() => onToggle(r.id)}
                    aria-label={`Move ${r.originalPath}`}
                    title="Untick to leave this file where it is"
                  />
                )}{' '}
                <span className="path">{r.originalPath}</span>
                {willMove(r) ? (
                  <>
                    <span className="arrow" aria-label="moves to">
                      →
                    </span>
                    <span className="path">{r.newPath}</span>
                  </>
                ) : (
                  <span className="muted small">{r.errorMessage ?? 'already in place'}</span>
                )}
              </li>
            ))}
          </ul>
        </details>
      ))}
      <PagedFooter paged={paged} noun="files" />
    </div>
  );
}

function DuplicatePlan({
  op,
  keep,
  onKeep,
}: {
  op: OperationFieldsFragment;
  keep: ReadonlyMap<string, string>;
  onKeep: (hash: string, id: string) => void;
}) {
  const paged = usePaged(DuplicateGroupsQuery, { operationId: op.id, first: 50 }, (d) => d.duplicateGroups);
  const summary = summarizeDuplicates(paged.nodes);
  return (
    <div className="plan">
      <ErrorNotice errors={describeErrors(paged.error)} onRetry={paged.reload} />
      {paged.total === 0 && <p className="empty">No duplicates found.</p>}
      {paged.nodes.length > 0 && (
        <p className="muted small">
          Showing {summary.groups} of {paged.total} groups: {formatCount(summary.extraCopies, 'extra copy', 'extra copies')},{' '}
          {formatBytes(summary.bytesFreed)}.
        </p>
      )}
      <ul className="dup-groups">
        {paged.nodes.map((g) => {
          const chosen = keep.get(g.hash);
          const trashed = new Set(chosen ? g.files.filter((f) => f.id !== chosen).map((f) => f.id) : trashedCopies(g).map((f) => f.id));
          return (
            <li key={g.hash} className="dup-group">
              <div className="dup-head">
                <span>{formatCount(g.files.length, 'identical file')}</span>
                <span className="muted small">
                  {formatBytes(g.sizeBytes)} each · <span title={g.hash}>{g.hash.slice(0, 12)}…</span>
                </span>
              </div>
              <ul>
                {g.files.map((f: FileRecordFieldsFragment) => (
                  <li key={f.id} className={trashed.has(f.id) ? 'dup-trashed' : 'dup-kept'}>
                    <input
                      type="radio"
                      name={`keep-${g.hash}`}
                      checked={!trashed.has(f.id)}
                      onChange={() => onKeep(g.hash, f.id)}
                      aria-label={`Keep ${f.originalPath}`}
                    />{' '}
                    {trashed.has(f.id) ? (
                      <span className="badge badge-neutral">To trash</span>
                    ) : (
                      <span className="badge badge-rec-kept">Kept</span>
                    )}{' '}
                    <span className="path">{f.originalPath}</span>
                    {!trashed.has(f.id) && (chosen ? <span className="muted small"> — your choice</span> : f.errorMessage && <span className="muted small"> — {f.errorMessage.replace(/^kept:\s*/i, '')}</span>)}
                  </li>
                ))}
              </ul>
            </li>
          );
        })}
      </ul>
      <PagedFooter paged={paged} noun="groups" />
    </div>
  );
}

function PagedFooter({ paged, noun }: { paged: { nodes: unknown[]; total: number | null; hasMore: boolean; fetching: boolean; loadMore: () => void }; noun: string }) {
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

function Report({ op, refreshKey }: { op: OperationFieldsFragment; refreshKey: number }) {
  const [result, refetch] = useQuery({ query: OperationReportQuery, variables: { id: op.id } });
  useEffect(() => {
    if (refreshKey) refetch({ requestPolicy: 'network-only' });
  }, [refreshKey, refetch]);
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

function Actions({ op, onChanged }: { op: OperationFieldsFragment; onChanged: () => void }) {
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
          if (result.data?.purgeTrash) {
            if (result.data.purgeTrash.id !== op.id) navigate(`/operations/${result.data.purgeTrash.id}`);
            else onChanged();
          }
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
