import { useState } from 'react';
import { useQuery } from 'urql';
import { FilesQuery } from '../api/documents';
import { describeErrors } from '../api/errors';
import { useAuth } from '../auth/AuthContext';
import { ErrorNotice } from '../components/ErrorNotice';
import { PageNav } from '../components/PageNav';
import { StartOperationForm } from '../components/StartOperationForm';
import { UploadPanel } from '../components/UploadPanel';
import { useDocumentTitle, useRefetchOnReconnect } from '../hooks';
import { useCursorPages } from '../hooks/usePaged';
import { defaultOptions } from '../lib/operationOptions';
import { breadcrumbs, folderLabel, formatBytes, formatCount, formatDateTime, normalizePath } from '../lib/format';
import { Link, navigate, useSearchParam } from '../router';

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

function FolderView({ path }: { path: string }) {
  useDocumentTitle(folderLabel(path));
  const { user, reloadUser } = useAuth();
  const pages = useCursorPages(PAGE);
  const [result, refetch] = useQuery({ query: FilesQuery, variables: { path, first: PAGE, after: pages.after } });
  const [starting, setStarting] = useState<null | 'ORGANIZE' | 'DUPLICATE_CLEANUP'>(null);
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
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
        </div>
        <div className="row">
          <button type="button" className="btn btn-primary" onClick={() => setStarting('ORGANIZE')}>
            Organize…
          </button>
          <button type="button" className="btn" onClick={() => setStarting('DUPLICATE_CLEANUP')}>
            Find duplicates…
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

      {user && (
        <UploadPanel
          path={path}
          usedBytes={user.storageUsedBytes}
          quotaGb={user.storageQuotaGb}
          onUploaded={() => {
            refetch({ requestPolicy: 'network-only' });
            reloadUser();
          }}
        />
      )}

      <section className="card" aria-labelledby="list-heading">
        <div className="card-head">
          <h2 id="list-heading">Contents</h2>
          <span className="muted" aria-live="polite">
            {conn ? (conn.totalCount === 0 ? 'Empty' : formatCount(conn.totalCount, 'item')) : result.fetching ? 'Loading…' : ''}
          </span>
        </div>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
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
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((f) => (
                  <tr key={f.path}>
                    <td className="name-cell">
                      {f.isDir ? (
                        <Link to={filesHref(f.path)} className="folder-link">
                          <span className="icon icon-folder" aria-hidden="true" />
                          {f.name}
                          <span className="visually-hidden"> (folder)</span>
                        </Link>
                      ) : (
                        <span className="file-name">
                          <span className="icon icon-file" aria-hidden="true" />
                          {f.name}
                        </span>
                      )}
                    </td>
                    <td className="num">{f.isDir ? '—' : formatBytes(f.sizeBytes)}</td>
                    <td className="hide-narrow">{f.category ? <span className="tag">{f.category}</span> : ''}</td>
                    <td className="hide-narrow muted">{formatDateTime(f.modifiedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {conn && conn.totalCount === 0 && <p className="empty">This folder is empty. Upload files above.</p>}
        {conn && (
          <PageNav {...pages.nav(conn)} />
        )}
      </section>
    </>
  );
}
