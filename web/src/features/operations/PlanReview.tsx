import { useState } from 'react';
import { useMutation } from 'urql';
import { ApplyPlanMutation, DuplicateGroupsQuery, FileRecordsQuery } from './documents';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PagedFooter } from '../../components/PagedFooter';
import { StartOperationForm } from '../../components/StartOperationForm';
import type { FileRecordFieldsFragment, OperationFieldsFragment } from '../../gql/graphql';
import { useDebounced } from '../../hooks';
import { usePaged } from '../../hooks/usePaged';
import { defaultOptions, recalledOptions } from '../../lib/operationOptions';
import { folderLabel, formatBytes, formatCount } from '../../lib/format';
import { groupByDestination, STAYS, summarizeDuplicates, trashedCopies, willMove } from '../../lib/plan';
import { navigate } from '../../router';

/** A dry run's plan, to review and edit (files left out, the copy each group keeps) before applying it. */
export function PlanReview({ op }: { op: OperationFieldsFragment }) {
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
  const search = useDebounced(typed.trim());
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
