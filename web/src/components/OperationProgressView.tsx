import { useState } from 'react';
import { useMutation } from 'urql';
import { CancelOperationMutation } from '../api/documents';
import { describeErrors, type FriendlyError } from '../api/errors';
import type { LiveEntry } from '../live/progressStore';
import { progressPercent } from '../live/progressStore';
import { formatBytes, formatDuration, formatPercent, formatRate, isActiveStatus, phaseLabel, statusLabel } from '../lib/format';
import { ProgressBar } from './ProgressBar';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  entry: LiveEntry;
  title?: string;
  /** Whether the operation is a duplicate cleanup (shows duplicates found). */
  showDuplicates?: boolean;
}

/** One operation's live progress: bar, phase, counts, files/s, and a cancel button. */
export function OperationProgressView({ entry, title, showDuplicates }: Props) {
  const p = entry.progress;
  const percent = progressPercent(p);
  const active = isActiveStatus(p.status);
  const [confirm, setConfirm] = useState(false);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [cancelState, cancel] = useMutation(CancelOperationMutation);
  const tone = p.status === 'COMPLETED' ? 'done' : p.status === 'FAILED' || p.status === 'CANCELLED' ? 'failed' : 'normal';
  const label = `${title ?? 'Operation'}: ${statusLabel(p.status)}, ${phaseLabel(p.phase)}, ${formatPercent(percent)}`;
  return (
    <div className="live-op" data-operation-id={p.operationId} data-status={p.status}>
      <div className="live-op-head">
        {title && <span className="live-op-title">{title}</span>}
        <span className={`badge badge-${p.status.toLowerCase()}`}>{statusLabel(p.status)}</span>
        <span className="muted">{active ? phaseLabel(p.phase) : ''}</span>
        <span className="live-op-percent" aria-hidden="true">
          {formatPercent(percent)}
        </span>
      </div>
      <ProgressBar value={percent} label={label} tone={tone} />
      {/* Announce phase and outcome changes only, not every counter tick. */}
      <span className="visually-hidden" aria-live="polite">
        {`${title ?? 'Operation'}: ${active ? phaseLabel(p.phase) : statusLabel(p.status)}`}
      </span>
      <dl className="live-op-stats">
        <div>
          <dt>Scanned</dt>
          <dd>{p.filesScanned.toLocaleString('en-US')}</dd>
        </div>
        <div>
          {/* A dry run plans its files; it never does them. */}
          <dt>{p.dryRun ? 'Planned' : 'Done'}</dt>
          <dd>
            {p.dryRun
              ? (p.filesTotal ?? 0).toLocaleString('en-US')
              : `${p.filesProcessed.toLocaleString('en-US')}${p.filesTotal != null ? ` / ${p.filesTotal.toLocaleString('en-US')}` : ''}`}
          </dd>
        </div>
        {active && p.phaseDone != null && (
          <div>
            {/* The work of the phase the bar is in: scanned, hashed, or moved. */}
            <dt>{phaseLabel(p.phase)}</dt>
            <dd>
              {p.phaseDone.toLocaleString('en-US')}
              {p.phaseTotal != null ? ` / ${p.phaseTotal.toLocaleString('en-US')}` : ''}
            </dd>
          </div>
        )}
        <div>
          <dt>Skipped</dt>
          <dd>{p.filesSkipped.toLocaleString('en-US')}</dd>
        </div>
        {showDuplicates && (
          <div>
            <dt>Duplicates</dt>
            <dd>
              {p.duplicatesFound.toLocaleString('en-US')} ({formatBytes(p.spaceSavedBytes)})
            </dd>
          </div>
        )}
        {active && (
          <div>
            <dt>Speed</dt>
            <dd>{formatRate(entry.rate)}</dd>
          </div>
        )}
        {active && p.secondsLeft != null && (
          <div>
            <dt>Time left</dt>
            <dd>{formatDuration(p.secondsLeft * 1000)}</dd>
          </div>
        )}
      </dl>
      {p.message && <p className="muted small">{p.message}</p>}
      {active && (
        <button type="button" className="btn btn-small" onClick={() => setConfirm(true)}>
          Stop…
        </button>
      )}
      <ErrorNotice errors={errors} />
      <ConfirmDialog
        open={confirm}
        title="Stop this operation?"
        confirmLabel="Stop operation"
        cancelLabel="Keep running"
        danger
        busy={cancelState.fetching}
        onCancel={() => setConfirm(false)}
        onConfirm={async () => {
          const result = await cancel({ id: p.operationId });
          setConfirm(false);
          setErrors(describeErrors(result.error));
        }}
      >
        <p>
          It stops before its next file. Files already moved stay where they are now, and the operation can be rolled
          back afterwards.
        </p>
      </ConfirmDialog>
    </div>
  );
}
