import { useRef, useState, type DragEvent } from 'react';
import { stringifyDocument } from 'urql';
import { UploadFilesDocument, UPLOAD_SENDS_MODIFIED_AT } from '../generated/uploadDocument';
import { connectivity, session } from '../api/runtime';
import { graphqlHttpUrl } from '../api/endpoints';
import { describeErrors, type FriendlyError } from '../api/errors';
import {
  collectDropped,
  fromFileList,
  multipartBody,
  multipartParts,
  perFileProgress,
  planBatches,
  sendMultipart,
  UploadNetworkError,
  type PickedFile,
  type UploadResponse,
} from '../lib/upload';
import { folderLabel, formatBytes, formatPercent } from '../lib/format';
import { ProgressBar } from './ProgressBar';
import { ErrorNotice } from './ErrorNotice';
import { QuotaMeter } from './QuotaMeter';

const UPLOAD_QUERY = stringifyDocument(UploadFilesDocument);

type FileStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'not-sent';

interface FileRow {
  key: string;
  relativePath: string;
  size: number;
  progress: number;
  status: FileStatus;
}

interface Props {
  path: string;
  usedBytes: number;
  quotaGb: number;
  onUploaded: () => void;
}

export function UploadPanel({ path, usedBytes, quotaGb, onUploaded }: Props) {
  const [rows, setRows] = useState<FileRow[]>([]);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [summary, setSummary] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  async function upload(files: PickedFile[]) {
    if (files.length === 0 || busy) return;
    setBusy(true);
    setErrors([]);
    setSummary(null);
    const batches = planBatches(files, path, 20);
    const keyOf = (f: PickedFile, i: number) => `${i}:${f.relativePath}`;
    const indexOf = new Map<PickedFile, number>();
    files.forEach((f, i) => indexOf.set(f, i));
    setRows(
      files.map((f, i) => ({ key: keyOf(f, i), relativePath: f.relativePath, size: f.file.size, progress: 0, status: 'queued' })),
    );
    const update = (items: PickedFile[], change: (row: FileRow, j: number) => FileRow) =>
      setRows((current) => {
        const next = current.slice();
        items.forEach((f, j) => {
          const i = indexOf.get(f)!;
          next[i] = change(next[i], j);
        });
        return next;
      });

    let uploaded = 0;
    const problems: FriendlyError[] = [];
    let stop = false;
    for (const batch of batches) {
      if (stop) {
        update(batch.items, (r) => ({ ...r, status: 'not-sent' }));
        continue;
      }
      update(batch.items, (r) => ({ ...r, status: 'uploading' }));
      const sizes = batch.items.map((f) => f.file.size);
      let response: UploadResponse | null = null;
      let refreshed = false;
      let waits = 0;
      for (;;) {
        const token = await session.freshAccessToken().catch(() => session.getAccessToken());
        const parts = multipartParts(UPLOAD_QUERY, batch, UPLOAD_SENDS_MODIFIED_AT);
        try {
          response = await sendMultipart(graphqlHttpUrl(), multipartBody(parts), token, (loaded, total) => {
            const each = perFileProgress(sizes, loaded, total);
            update(batch.items, (r, j) => ({ ...r, progress: each[j] }));
          }).promise;
        } catch (e) {
          if (e instanceof UploadNetworkError) connectivity.markDown('http');
          problems.push(...describeErrors({ networkError: e }));
          response = null;
          stop = true;
          break;
        }
        const codeOf = (code: string) => response?.errors?.find((err) => err.extensions?.code === code);
        if (codeOf('UNAUTHENTICATED') && !refreshed) {
          refreshed = true;
          if (await session.refresh().catch(() => null)) continue;
        }
        // Too many uploads in flight for this account (other tabs): wait as told, then again.
        const busy = codeOf('RATE_LIMITED');
        if (busy && waits < 5) {
          waits++;
          const seconds = Math.min(30, Math.max(1, Number(busy.extensions?.retryAfter) || 2));
          update(batch.items, (r) => ({ ...r, progress: 0, status: 'queued' }));
          await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
          update(batch.items, (r) => ({ ...r, status: 'uploading' }));
          continue;
        }
        break;
      }
      if (response && !response.errors?.length) {
        uploaded += batch.items.length;
        update(batch.items, (r) => ({ ...r, progress: 1, status: 'done' }));
      } else {
        update(batch.items, (r) => ({ ...r, status: 'failed' }));
        if (response?.errors) {
          const friendly = describeErrors({ graphQLErrors: response.errors });
          problems.push(...friendly.map((f) => ({ ...f, message: `${folderLabel(batch.path)}: ${f.message}` })));
          // A full quota or a lost session fails every later batch too.
          if (friendly.some((f) => f.code === 'QUOTA_EXCEEDED' || f.code === 'UNAUTHENTICATED')) stop = true;
        }
      }
    }
    setErrors(problems);
    setSummary(`${uploaded} of ${files.length} files uploaded.`);
    setBusy(false);
    onUploaded();
  }

  const totalBytes = rows.reduce((n, r) => n + r.size, 0);
  const sentBytes = rows.reduce((n, r) => n + r.size * r.progress, 0);
  const totalPercent = rows.length ? (totalBytes > 0 ? (sentBytes / totalBytes) * 100 : rows.every((r) => r.status === 'done') ? 100 : 0) : null;

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    await upload(await collectDropped(e.dataTransfer));
  };

  return (
    <section className="card upload" aria-labelledby="upload-heading">
      <div className="card-head">
        <h2 id="upload-heading">Upload to {folderLabel(path)}</h2>
        <QuotaMeter usedBytes={usedBytes} quotaGb={quotaGb} />
      </div>
      <div
        className={`dropzone ${dragging ? 'dropzone-active' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop files or folders here, or</p>
        <div className="row">
          <button type="button" className="btn" onClick={() => fileInput.current?.click()} disabled={busy}>
            Choose files…
          </button>
          <button type="button" className="btn" onClick={() => folderInput.current?.click()} disabled={busy}>
            Choose a folder…
          </button>
        </div>
        <label className="visually-hidden" htmlFor="upload-files">
          Files to upload
        </label>
        <input
          id="upload-files"
          ref={fileInput}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          data-testid="upload-files"
          onChange={(e) => {
            const picked = fromFileList(e.target.files ?? []);
            e.target.value = '';
            void upload(picked);
          }}
        />
        <label className="visually-hidden" htmlFor="upload-folder">
          Folder to upload
        </label>
        <input
          id="upload-folder"
          ref={folderInput}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          data-testid="upload-folder"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            const picked = fromFileList(e.target.files ?? []);
            e.target.value = '';
            void upload(picked);
          }}
        />
      </div>
      {rows.length > 0 && (
        <div className="upload-progress" aria-live="polite">
          <div className="row between">
            <span>
              {busy
                ? `Uploading ${rows.length} files (${formatBytes(totalBytes)})…`
                : `${rows.filter((r) => r.status === 'done').length} of ${rows.length} files uploaded (${formatBytes(totalBytes)})`}
            </span>
            <span>{formatPercent(totalPercent)}</span>
          </div>
          <ProgressBar value={totalPercent} label="Total upload progress" tone={errors.length ? 'failed' : busy ? 'normal' : 'done'} />
          {summary && (
            <p className="visually-hidden" role="status">
              {summary}
            </p>
          )}
          <details className="upload-files" open={rows.length <= 8}>
            <summary>Files</summary>
            <ul>
              {rows.map((r) => (
                <li key={r.key} className={`upload-row upload-${r.status}`}>
                  <span className="upload-name" title={r.relativePath}>
                    {r.relativePath}
                  </span>
                  <span className="muted small">{statusText(r)}</span>
                  <ProgressBar value={r.progress * 100} label={`${r.relativePath}: ${statusText(r)}`} small tone={r.status === 'failed' || r.status === 'not-sent' ? 'failed' : r.status === 'done' ? 'done' : 'normal'} />
                </li>
              ))}
            </ul>
          </details>
        </div>
      )}
      <ErrorNotice errors={errors} title="Some files were not uploaded" />
    </section>
  );
}

function statusText(r: FileRow): string {
  switch (r.status) {
    case 'queued':
      return `waiting · ${formatBytes(r.size)}`;
    case 'uploading':
      return `${Math.floor(r.progress * 100)} % of ${formatBytes(r.size)}`;
    case 'done':
      return `done · ${formatBytes(r.size)}`;
    case 'failed':
      return 'failed';
    case 'not-sent':
      return 'not sent';
  }
}
