import { useEffect, useMemo, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import {
  CreateFolderMutation,
  DeleteEntriesMutation,
  FileLinkMutation,
  FilesQuery,
  MoveEntriesMutation,
  RenameEntryMutation,
} from './documents';
import { describeErrors, firstErrorCode, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PromptDialog } from '../../components/PromptDialog';
import type { FileSort } from '../../gql/graphql';
import { waitForOperation } from '../../lib/waitForOperation';
import { useAuth } from '../auth/AuthContext';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageNav } from '../../components/PageNav';
import { StartOperationForm } from '../../components/StartOperationForm';
import { QuotaMeter } from '../../components/QuotaMeter';
import { useDebounced, useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { useCursorPages } from '../../hooks/usePaged';
import { defaultOptions } from '../../lib/operationOptions';
import { startDownload } from '../../lib/download';
import { throttle } from '../../lib/throttle';
import { DropTarget, UploadButton } from '../uploads/UploadButton';
import { useUploadLanded, useUploadsInto } from '../uploads/UploadProvider';
import { listingConcerns } from '../../api/cacheUpdates';
import { breadcrumbs, folderLabel, formatBytes, formatCount, formatDateTime, normalizePath } from '../../lib/format';
import { Link, navigate, useSearchParam } from '../../router';

const PAGE = 50;

export function filesHref(path: string): string {
  const p = normalizePath(path);
  return p ? `/files?path=${encodeURIComponent(p)}` : '/files';
}

export function FilesPage() {
  const path = normalizePath(useSearchParam('path'));
  // Key by path so paging state resets when the folder changes.
  return <FolderView key={path} path={path} />;
}

type Entry = { path: string; name: string; isDir: boolean };
type Dialog = null | { kind: 'folder' } | { kind: 'rename' | 'move' | 'delete'; entry: Entry };

const SORTS: { value: FileSort; label: string }[] = [
  { value: 'NAME' as FileSort, label: 'Name (A–Z)' },
  { value: 'NAME_DESC' as FileSort, label: 'Name (Z–A)' },
  { value: 'SIZE_DESC' as FileSort, label: 'Largest first' },
  { value: 'SIZE' as FileSort, label: 'Smallest first' },
  { value: 'MODIFIED_DESC' as FileSort, label: 'Newest first' },
  { value: 'MODIFIED' as FileSort, label: 'Oldest first' },
];

function FolderView({ path }: { path: string }) {
  useDocumentTitle(folderLabel(path));
  const { user } = useAuth();
  const pages = useCursorPages(PAGE);
  const [typed, setTyped] = useState('');
  const [sort, setSort] = useState<FileSort>('NAME' as FileSort);
  const search = useDebounced(typed.trim());
  const { reset } = pages;
  useEffect(() => reset(), [search, sort]); // eslint-disable-line react-hooks/exhaustive-deps
  const [result, refetch] = useQuery({
    query: FilesQuery,
    variables: { path, first: PAGE, after: pages.after, search: search || null, sort },
  });
  const client = useClient();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState(false);
  const [dialogErrors, setDialogErrors] = useState<FriendlyError[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionErrors, setActionErrors] = useState<FriendlyError[]>([]);
  const [, createFolder] = useMutation(CreateFolderMutation);
  const [, renameEntry] = useMutation(RenameEntryMutation);
  const [, moveEntries] = useMutation(MoveEntriesMutation);
  const [, deleteEntries] = useMutation(DeleteEntriesMutation);
  const [, fileLink] = useMutation(FileLinkMutation);
  const close = () => {
    setDialog(null);
    setDialogErrors([]);
  };
  // Runs an action; an operation it starts is waited for (the cache makes the listing
  // stale when it ends, so it is read again).
  const act = async (run: () => Promise<{ error?: unknown; id?: string | null }>, done: string) => {
    setBusy(true);
    setNotice(null);
    const { error, id } = await run();
    if (error) {
      setBusy(false);
      setDialogErrors(describeErrors(error as Parameters<typeof describeErrors>[0]));
      return;
    }
    close();
    if (id) {
      const ended = await waitForOperation(client, id);
      if (ended && ended.status !== 'COMPLETED') setNotice(ended.errorMessage ?? `The operation ${ended.status.toLowerCase()}.`);
      else if (ended && ended.filesSkipped > 0) setNotice(`${done} ${ended.filesSkipped} file(s) were skipped; see the operation for why.`);
      else setNotice(done);
    } else {
      setNotice(done);
    }
    setBusy(false);
  };
  const download = async (entry: Entry, inline: boolean) => {
    setActionErrors([]);
    const res = await fileLink({ path: entry.path, inline });
    if (res.error || !res.data) {
      setActionErrors(describeErrors(res.error));
      return;
    }
    if (inline) window.open(res.data.fileLink, '_blank', 'noopener');
    else startDownload(res.data.fileLink);
  };
  const [starting, setStarting] = useState<null | 'ORGANIZE' | 'DUPLICATE_CLEANUP'>(null);
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  // A folder that does not exist (yet): an upload into it creates it, so it is not an error.
  const uploadsHere = useUploadsInto(path);
  const missing = path !== '' && !result.data && firstErrorCode(result.error) === 'NOT_FOUND';
  // Files show up as their batches land: the upload manager makes the listings of their
  // folders stale in the cache. A missing folder has no listing there: asked again here
  // (at most every second) while an upload lands in it or below.
  const refresh = useMemo(() => throttle(() => refetch({ requestPolicy: 'network-only' }), 1000), [refetch]);
  useEffect(() => () => refresh.cancel(), [refresh]);
  useUploadLanded((landed) => {
    if (missing && listingConcerns(path, landed)) refresh();
  });
  const conn = result.data?.files;
  const crumbs = breadcrumbs(path);

  return (
    <>
      <div className="page-head">
        <div>
          {crumbs.length > 1 && (
          <nav aria-label="Breadcrumb">
            <ol className="breadcrumbs">
              {crumbs.map((c, i) => (
                <li key={c.path}>
                  {i === crumbs.length - 1 ? (
                    <span aria-current="page">{c.label}</span>
                  ) : (
                    <Link to={filesHref(c.path)}>{c.label}</Link>
                  )}
                </li>
              ))}
            </ol>
          </nav>
          )}
          <h1>{folderLabel(path)}</h1>
          {user && <QuotaMeter usedBytes={user.storageUsedBytes} quotaGb={user.storageQuotaGb} />}
        </div>
        <div className="row">
          <UploadButton path={path} />
          <button type="button" className="btn" onClick={() => setStarting('ORGANIZE')}>
            Organize…
          </button>
          <button type="button" className="btn" onClick={() => setStarting('DUPLICATE_CLEANUP')}>
            Find duplicates…
          </button>
          <button type="button" className="btn" onClick={() => setDialog({ kind: 'folder' })}>
            New folder…
          </button>
        </div>
      </div>

      {starting && (
        <section className="card" aria-labelledby="start-heading">
          <h2 id="start-heading">{starting === 'ORGANIZE' ? 'Organize' : 'Clean up duplicates in'} {folderLabel(path)}</h2>
          <StartOperationForm
            key={starting}
            initial={defaultOptions(starting, path)}
            onStarted={(op) => navigate(`/operations/${op.id}`)}
            onCancel={() => setStarting(null)}
          />
        </section>
      )}

      <DropTarget path={path} />

      <section className="card" aria-labelledby="list-heading">
        <div className="card-head">
          <h2 id="list-heading">Contents</h2>
          <span className="muted" aria-live="polite">
            {conn ? (conn.totalCount === 0 ? 'Empty' : formatCount(conn.totalCount, 'item')) : missing ? 'Empty' : result.fetching ? 'Loading…' : ''}
          </span>
        </div>
        <div className="row files-toolbar">
          <input
            type="search"
            name="search"
            aria-label="Search file names in this folder and below"
            placeholder="Search names…"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <label className="inline-label">
            Sort
            <select name="sort" value={sort} onChange={(e) => setSort(e.target.value as FileSort)}>
              {SORTS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorNotice errors={actionErrors} />
        {missing ? (
          <p className="empty">
            {uploadsHere
              ? 'Uploading into this new folder: its files show up here as they arrive.'
              : 'There is no folder here yet. Upload files (the Upload button, or drop them anywhere on this page) to create it.'}
          </p>
        ) : (
          <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
        )}
        {conn && conn.nodes.length > 0 && (
          <div className="table-wrap">
            <table className="table files-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col" className="hide-narrow">
                    Category
                  </th>
                  <th scope="col" className="hide-narrow">
                    Modified
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((f) => (
                  <tr key={f.path}>
                    <td className="name-cell">
                      {f.isDir ? (
                        <Link to={filesHref(f.path)} className="folder-link">
                          <span className="icon icon-folder" aria-hidden="true" />
                          {search ? f.path : f.name}
                          <span className="visually-hidden"> (folder)</span>
                        </Link>
                      ) : (
                        <span className="file-name">
                          <span className="icon icon-file" aria-hidden="true" />
                          {search ? f.path : f.name}
                        </span>
                      )}
                    </td>
                    <td className="num">{f.isDir ? '—' : formatBytes(f.sizeBytes)}</td>
                    <td className="hide-narrow">{f.category ? <span className="tag">{f.category}</span> : ''}</td>
                    <td className="hide-narrow muted">{formatDateTime(f.modifiedAt)}</td>
                    <td className="row-actions">
                      {!f.isDir && (
                        <button type="button" className="btn btn-small" onClick={() => download(f, true)} aria-label={`Open ${f.name}`}>
                          Open
                        </button>
                      )}
                      <button type="button" className="btn btn-small" onClick={() => download(f, false)} aria-label={`Download ${f.name}`}>
                        Download
                      </button>
                      <button type="button" className="btn btn-small" onClick={() => setDialog({ kind: 'rename', entry: f })} aria-label={`Rename ${f.name}`}>
                        Rename…
                      </button>
                      <button type="button" className="btn btn-small" onClick={() => setDialog({ kind: 'move', entry: f })} aria-label={`Move ${f.name}`}>
                        Move…
                      </button>
                      <button type="button" className="btn btn-small btn-danger" onClick={() => setDialog({ kind: 'delete', entry: f })} aria-label={`Delete ${f.name}`}>
                        Delete…
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {conn && conn.totalCount === 0 && (
          <p className="empty">{search ? `No file names here hold “${search}”.` : 'This folder is empty. Upload files with the Upload button, or drop them anywhere on this page.'}</p>
        )}
        {conn && (
          <PageNav {...pages.nav(conn)} />
        )}
      </section>

      <PromptDialog
        open={dialog?.kind === 'folder'}
        title="New folder"
        label="Name"
        initial=""
        confirmLabel="Create folder"
        busy={busy}
        errors={dialogErrors}
        onCancel={close}
        onConfirm={(name) =>
          act(async () => {
            const r = await createFolder({ path: path ? `${path}/${name}` : name });
            return { error: r.error };
          }, `Folder “${name}” created.`)
        }
      />
      <PromptDialog
        open={dialog?.kind === 'rename'}
        title={dialog && dialog.kind !== 'folder' ? `Rename ${dialog.entry.name}` : 'Rename'}
        label="New name"
        initial={dialog && dialog.kind !== 'folder' ? dialog.entry.name : ''}
        confirmLabel="Rename"
        busy={busy}
        errors={dialogErrors}
        onCancel={close}
        onConfirm={(newName) =>
          dialog &&
          dialog.kind === 'rename' &&
          act(async () => {
            const r = await renameEntry({ path: dialog.entry.path, newName });
            return { error: r.error, id: r.data?.renameEntry.id };
          }, `Renamed to “${newName}”. It can be undone from Operations.`)
        }
      />
      <PromptDialog
        open={dialog?.kind === 'move'}
        title={dialog && dialog.kind !== 'folder' ? `Move ${dialog.entry.name}` : 'Move'}
        label="Into the folder (a path from your storage's root)"
        initial={path}
        confirmLabel="Move"
        busy={busy}
        errors={dialogErrors}
        onCancel={close}
        onConfirm={(to) =>
          dialog &&
          dialog.kind === 'move' &&
          act(async () => {
            const r = await moveEntries({ paths: [dialog.entry.path], to });
            return { error: r.error, id: r.data?.moveEntries.id };
          }, `Moved into “${to}”. It can be undone from Operations.`)
        }
      />
      <ConfirmDialog
        open={dialog?.kind === 'delete'}
        title={dialog && dialog.kind !== 'folder' ? `Delete ${dialog.entry.name}?` : 'Delete?'}
        confirmLabel="Move to trash"
        danger
        busy={busy}
        onCancel={close}
        onConfirm={() =>
          dialog &&
          dialog.kind === 'delete' &&
          act(async () => {
            const r = await deleteEntries({ paths: [dialog.entry.path] });
            return { error: r.error, id: r.data?.deleteEntries.id };
          }, 'Moved to the trash. Restore it from Trash.')
        }
      >
        <p>
          {dialog && dialog.kind !== 'folder' && dialog.entry.isDir ? 'The folder and everything in it go' : 'It goes'} to the
          trash, where it can be restored until the trash is emptied.
        </p>
        <ErrorNotice errors={dialogErrors} />
      </ConfirmDialog>
    </>
  );
}
