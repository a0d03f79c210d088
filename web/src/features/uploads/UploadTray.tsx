// The upload tray: fixed at the bottom right (the bottom edge on phones), on every page
// while there are uploads to show. Collapsed, it is one line of totals and a bar; open,
// the uploads (one per pick or drop) and every file, in a list that renders only the
// rows in view.
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { formatBytes, formatCount, formatPercent, folderLabel } from '../../lib/format';
import { fileProgress, type JobSummary, type QueuedFile } from './uploadQueue';
import { ProgressBar } from '../../components/ProgressBar';
import { VirtualList } from './VirtualList';
import { useUploads, useUploadSnapshot } from './UploadProvider';

const ROW = 44;
const NARROW = '(max-width: 720px)';

export function UploadTray() {
  const manager = useUploads();
  const { queue } = manager;
  const snap = useUploadSnapshot();
  const id = useId();
  const [open, setOpen] = useState(() => typeof window === 'undefined' || !window.matchMedia?.(NARROW).matches);
  const [announcement, setAnnouncement] = useState('');
  const tray = useRef<HTMLElement>(null);
  const [trayHeight, setTrayHeight] = useState(0);

  useEffect(() => manager.onSettled((job) => setAnnouncement(settledText(job))), [manager]);
  // Open on a wide screen, closed on a phone (where it would cover the page): as the layout changes.
  useEffect(() => {
    const query = window.matchMedia?.(NARROW);
    if (!query) return;
    const follow = () => setOpen(!query.matches);
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);

  // Room below the page for the tray, so it never covers the end of it.
  const shown = snap.jobs.length > 0;
  useLayoutEffect(() => {
    const el = tray.current;
    if (!el || typeof ResizeObserver === 'undefined') {
      setTrayHeight(0);
      return;
    }
    const observer = new ResizeObserver(() => setTrayHeight(el.offsetHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, [shown]);

  const live = (
    <p className="visually-hidden" role="status" aria-live="polite">
      {announcement}
    </p>
  );
  if (!shown) return live;

  const percent = snap.bytes > 0 ? (snap.sentBytes / snap.bytes) * 100 : snap.files > 0 && snap.pending === 0 ? 100 : 0;
  const finished = snap.jobs.some((j) => j.status !== 'active');
  const title = snap.active
    ? snap.pending > 0
      ? `Uploading ${formatCount(snap.pending, 'file')}`
      : 'Preparing the upload…'
    : snap.failed > 0
      ? 'Some uploads failed'
      : 'Uploads finished';

  return (
    <>
      <div className="upload-tray-spacer" style={{ height: trayHeight }} aria-hidden="true" />
      {live}
      <section
        ref={tray}
        className={`upload-tray ${open ? 'upload-tray-open' : ''}`}
        aria-labelledby={`${id}-title`}
        data-testid="upload-tray"
        data-files={snap.files}
        data-done={snap.done}
        data-pending={snap.pending}
        data-cancelled={snap.cancelled}
        data-failed={snap.failed}
        data-active={snap.active}
      >
        <div className="tray-head">
          <div className="tray-title">
            <h2 id={`${id}-title`}>{title}</h2>
            <span className="muted small tray-totals">
              {snap.done.toLocaleString('en-US')} of {formatCount(snap.files, 'file')} · {formatBytes(snap.sentBytes)} of {formatBytes(snap.bytes)}
              {snap.failed > 0 && ` · ${snap.failed.toLocaleString('en-US')} failed`}
              {snap.cancelled > 0 && ` · ${snap.cancelled.toLocaleString('en-US')} cancelled`}
            </span>
          </div>
          <button
            type="button"
            className="btn btn-small tray-toggle"
            aria-expanded={open}
            aria-controls={`${id}-body`}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? 'Hide' : 'Details'}
          </button>
        </div>
        <div className="tray-total">
          <ProgressBar value={percent} label="All uploads" tone={snap.failed > 0 ? 'failed' : snap.active ? 'normal' : 'done'} />
          <span className="small">{formatPercent(percent)}</span>
        </div>
        <div className="row tray-actions">
          {snap.active && (
            <button type="button" className="btn btn-small" onClick={() => queue.cancelAll()}>
              Cancel all
            </button>
          )}
          {snap.failed > 0 && (
            <button type="button" className="btn btn-small" onClick={() => queue.retryFailed()}>
              Retry failed
            </button>
          )}
          {finished && (
            <button type="button" className="btn btn-small" onClick={() => queue.clearFinished()}>
              Clear finished
            </button>
          )}
        </div>
        {open && (
          <div className="tray-body" id={`${id}-body`}>
            <ul className="tray-jobs" aria-label="Uploads">
              {snap.jobs.map((job) => (
                <JobRow key={job.id} job={job} onCancel={() => queue.cancelJob(job.id)} onRetry={() => queue.retryFailed(job.id)} />
              ))}
            </ul>
            <VirtualList
              className="tray-files"
              label={`Files (${snap.files.toLocaleString('en-US')})`}
              count={snap.files}
              rowHeight={ROW}
              height={ROW * 6}
              rowKey={(i) => queue.fileAt(i)?.id ?? `row-${i}`}
              follow={snap.followRow}
              renderRow={(i) => {
                const f = queue.fileAt(i);
                return f ? <FileRow file={f} onCancel={() => queue.cancelFile(f)} /> : null;
              }}
            />
          </div>
        )}
      </section>
    </>
  );
}

function JobRow({ job, onCancel, onRetry }: { job: JobSummary; onCancel: () => void; onRetry: () => void }) {
  const percent = job.bytes > 0 ? (job.sentBytes / job.bytes) * 100 : job.status === 'active' ? 0 : 100;
  const tone = job.status === 'failed' || job.status === 'cancelled' ? 'failed' : job.status === 'done' ? 'done' : 'normal';
  return (
    <li className={`tray-job tray-job-${job.status}`}>
      <div className="tray-job-head">
        <span className="tray-job-name" title={`${job.label} → ${folderLabel(job.path)}`}>
          <strong>{job.label}</strong> <span className="muted">→ {folderLabel(job.path)}</span>
        </span>
        {job.status === 'active' && (
          <button type="button" className="btn btn-small" onClick={onCancel} aria-label={`Cancel the upload of ${job.label}`}>
            Cancel
          </button>
        )}
        {job.failed > 0 && job.status !== 'active' && (
          <button type="button" className="btn btn-small" onClick={onRetry} aria-label={`Retry the failed files of ${job.label}`}>
            Retry
          </button>
        )}
      </div>
      <span className="muted small">{jobText(job)}</span>
      <ProgressBar value={percent} label={`${job.label}: ${jobText(job)}`} small tone={tone} />
      {job.errors.length > 0 && (
        <ul className="tray-errors">
          {job.errors.slice(0, 3).map((e, i) => (
            <li key={i} data-code={e.code}>
              <strong>{e.message}</strong> {e.nextStep}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function FileRow({ file, onCancel }: { file: QueuedFile; onCancel: () => void }) {
  const p = fileProgress(file);
  const cancellable = file.state === 'queued' || (file.state === 'uploading' && !(file.batch.sending > 0 && file.batch.loaded >= file.batch.sending));
  return (
    <div className={`tray-file tray-file-${file.state}`}>
      <span className="tray-file-name" title={file.relativePath}>
        {file.relativePath}
      </span>
      <span className="muted small tray-file-status">{fileText(file, p)}</span>
      {cancellable ? (
        <button type="button" className="btn btn-small tray-file-cancel" onClick={onCancel} aria-label={`Cancel ${file.relativePath}`} title="Cancel">
          ×
        </button>
      ) : (
        <span className="tray-file-cancel" />
      )}
      {file.state === 'uploading' && <ProgressBar value={p * 100} label={`${file.relativePath}: ${fileText(file, p)}`} small />}
    </div>
  );
}

function fileText(f: QueuedFile, progress: number): string {
  switch (f.state) {
    case 'queued':
      return f.batch.state === 'waiting' ? 'waiting for the server' : `waiting · ${formatBytes(f.size)}`;
    case 'uploading':
      // Sent whole, its batch's answer awaited: the server is storing it.
      return progress >= 1 && f.batch.loaded >= f.batch.sending ? `storing · ${formatBytes(f.size)}` : `${Math.floor(progress * 100)} % of ${formatBytes(f.size)}`;
    case 'done':
      return `done · ${formatBytes(f.size)}`;
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
  }
}

function jobText(job: JobSummary): string {
  const parts = [`${job.done.toLocaleString('en-US')} of ${formatCount(job.files, 'file')}`, `${formatBytes(job.sentBytes)} of ${formatBytes(job.bytes)}`];
  if (job.failed) parts.push(`${job.failed.toLocaleString('en-US')} failed`);
  if (job.cancelled) parts.push(`${job.cancelled.toLocaleString('en-US')} cancelled`);
  if (job.waiting) parts.push('the server is busy: waiting to retry');
  if (job.preparing) parts.push(`reading the files (${job.files.toLocaleString('en-US')} of ${job.expected.toLocaleString('en-US')})`);
  return parts.join(' · ');
}

/** What a screen reader hears when an upload ends. */
export function settledText(job: JobSummary): string {
  let text = `${job.done.toLocaleString('en-US')} of ${formatCount(job.files, 'file')} uploaded to ${folderLabel(job.path)}.`;
  if (job.failed) text += ` ${job.failed.toLocaleString('en-US')} failed.`;
  if (job.cancelled) text += ` ${job.cancelled.toLocaleString('en-US')} cancelled.`;
  return text;
}
