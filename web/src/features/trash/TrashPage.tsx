import { useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { EmptyTrashMutation, RestoreEntriesMutation, TrashQuery } from './documents';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PageNav } from '../../components/PageNav';
import { useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { useCursorPages } from '../../hooks/usePaged';
import { formatBytes, formatCount, formatDateTime } from '../../lib/format';
import { waitForOperation } from '../../lib/waitForOperation';
import { Link } from '../../router';

const PAGE = 50;

const FROM: Record<string, string> = {
  DELETE: 'Deleted',
  DUPLICATE_CLEANUP: 'Duplicate cleanup',
};

/** What deletes and duplicate cleanups put in the trash: restore it, or delete it for good. */
export function TrashPage() {
  useDocumentTitle('Trash');
  const pages = useCursorPages(PAGE);
  const [result, refetch] = useQuery({ query: TrashQuery, variables: { first: PAGE, after: pages.after } });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const client = useClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<null | 'selected' | 'all'>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [, restore] = useMutation(RestoreEntriesMutation);
  const [, empty] = useMutation(EmptyTrashMutation);
  const conn = result.data?.trash;
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  // The trash and the storage used are stale in the cache now (emptyTrash's update, or
  // the restore's end): they are read again by themselves.
  const after = () => {
    setSelected(new Set());
    setBusy(false);
    pages.reset();
  };

  const restoreSelected = async () => {
    setBusy(true);
    setErrors([]);
    const res = await restore({ ids: [...selected] });
    if (res.error || !res.data) {
      setErrors(describeErrors(res.error));
      setBusy(false);
      return;
    }
    const ended = await waitForOperation(client, res.data.restoreEntries.id);
    setNotice(
      ended?.status === 'COMPLETED'
        ? `${formatCount(selected.size, 'item')} restored to where they were (a taken place gets a new name).`
        : (ended?.errorMessage ?? 'The restore did not finish; see Operations.'),
    );
    after();
  };
  const emptyChosen = async (which: 'selected' | 'all') => {
    setBusy(true);
    setErrors([]);
    const res = await empty({ ids: which === 'all' ? null : [...selected] });
    setConfirm(null);
    if (res.error || res.data == null) {
      setErrors(describeErrors(res.error));
      setBusy(false);
      return;
    }
    setNotice(`${formatCount(res.data.emptyTrash, 'item')} deleted for good.`);
    after();
  };

  return (
    <>
      <div className="page-head">
        <h1>Trash</h1>
        <div className="row">
          <button type="button" className="btn" disabled={selected.size === 0 || busy} onClick={restoreSelected}>
            Restore selected
          </button>
          <button type="button" className="btn btn-danger" disabled={selected.size === 0 || busy} onClick={() => setConfirm('selected')}>
            Delete selected forever…
          </button>
          <button type="button" className="btn btn-danger" disabled={!conn || conn.totalCount === 0 || busy} onClick={() => setConfirm('all')}>
            Empty trash…
          </button>
        </div>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNotice errors={errors} />
      <section className="card" aria-labelledby="trash-heading">
        <div className="card-head">
          <h2 id="trash-heading">In the trash</h2>
          <span className="muted" aria-live="polite">
            {conn ? (conn.totalCount === 0 ? 'Empty' : formatCount(conn.totalCount, 'item')) : result.fetching ? 'Loading…' : ''}
          </span>
        </div>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
        {conn && conn.nodes.length > 0 && (
          <div className="table-wrap">
            <table className="table trash-table">
              <thead>
                <tr>
                  <th scope="col">
                    <span className="visually-hidden">Select</span>
                  </th>
                  <th scope="col">Was at</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col" className="hide-narrow">
                    From
                  </th>
                  <th scope="col" className="hide-narrow">
                    When
                  </th>
                </tr>
              </thead>
              <tbody>
                {conn.nodes.map((item) => (
                  <tr key={item.id}>
                    <td>
                      <input
                        type="checkbox"
                        checked={selected.has(item.id)}
                        onChange={() => toggle(item.id)}
                        aria-label={`Select ${item.originalPath}`}
                      />
                    </td>
                    <td className="name-cell">{item.originalPath}</td>
                    <td className="num">{formatBytes(item.sizeBytes)}</td>
                    <td className="hide-narrow">
                      <Link to={`/operations/${item.operationId}`}>{FROM[item.operationType] ?? item.operationType}</Link>
                    </td>
                    <td className="hide-narrow muted">{formatDateTime(item.deletedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {conn && conn.totalCount === 0 && <p className="empty">The trash is empty.</p>}
        {conn && <PageNav {...pages.nav(conn)} />}
      </section>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === 'all' ? 'Empty the trash?' : `Delete ${formatCount(selected.size, 'item')} forever?`}
        confirmLabel={confirm === 'all' ? 'Empty trash' : 'Delete forever'}
        danger
        busy={busy}
        onCancel={() => setConfirm(null)}
        onConfirm={() => confirm && emptyChosen(confirm)}
      >
        <p>
          {confirm === 'all' ? 'Everything in the trash is' : 'The selected items are'} deleted for good: they cannot be restored
          or rolled back afterwards, and the space they take is freed.
        </p>
      </ConfirmDialog>
    </>
  );
}
