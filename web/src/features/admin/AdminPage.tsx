import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AdminUpdateUserMutation, UsersQuery } from './documents';
import { describeErrors, firstErrorCode, type FriendlyError } from '../../api/errors';
import { useAuth, type User } from '../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { NotFound } from '../../components/NotFound';
import { PageNav } from '../../components/PageNav';
import type { AdminUserFieldsFragment, SubscriptionTier } from '../../gql/graphql';
import { useDebounced, useDocumentTitle, useRefetchOnReconnect } from '../../hooks';
import { useCursorPages } from '../../hooks/usePaged';
import { parseQuotaGb, QUOTA_MAX_GB } from '../../lib/accountChecks';
import { formatBytes, formatCount, formatDate, tierLabel } from '../../lib/format';
import { useLocation } from '../../router';

const PAGE = 25;
const TIERS: SubscriptionTier[] = ['FREE', 'PERSONAL', 'PRO', 'BUSINESS'];

type Account = AdminUserFieldsFragment;
interface Edit {
  tier: SubscriptionTier;
  quota: string;
}

/** /admin: every account, for administrators; anyone else sees "not found". */
export function AdminPage() {
  const { user } = useAuth();
  const { pathname } = useLocation();
  if (!user || user.role !== 'ADMIN') return <NotFound pathname={pathname} />;
  return <Accounts me={user} />;
}

function Accounts({ me }: { me: User }) {
  useDocumentTitle('Administration');
  const id = useId();
  const { pathname } = useLocation();
  const pages = useCursorPages(PAGE);
  const [typed, setTyped] = useState('');
  const search = useDebounced(typed.trim());
  const { reset } = pages;
  useEffect(() => reset(), [search]); // eslint-disable-line react-hooks/exhaustive-deps
  const [result, refetch] = useQuery({ query: UsersQuery, variables: { first: PAGE, after: pages.after, search: search || null } });
  useRefetchOnReconnect(() => refetch({ requestPolicy: 'network-only' }));
  const [, update] = useMutation(AdminUpdateUserMutation);
  const [edits, setEdits] = useState<Record<string, Edit>>({});
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [toggling, setToggling] = useState<Account | null>(null);

  // The role was taken away meanwhile: the page is gone for this account.
  if (firstErrorCode(result.error) === 'FORBIDDEN') return <NotFound pathname={pathname} />;

  const conn = result.data?.users;
  const editOf = (u: Account): Edit => edits[u.id] ?? { tier: u.subscriptionTier, quota: String(u.storageQuotaGb) };
  const setEdit = (u: Account, change: Partial<Edit>) => setEdits((all) => ({ ...all, [u.id]: { ...editOf(u), ...change } }));
  const isDirty = (u: Account) => {
    const e = edits[u.id];
    return !!e && (e.tier !== u.subscriptionTier || e.quota.trim() !== String(u.storageQuotaGb));
  };
  const quotaId = (u: Account) => `${id}-quota-${u.id}`;

  const after = (res: { data?: { adminUpdateUser: Account } | null; error?: Parameters<typeof describeErrors>[0] }, done: (u: Account) => string) => {
    setBusy(null);
    setErrors(describeErrors(res.error));
    const saved = res.data?.adminUpdateUser;
    if (saved) {
      setEdits(({ [saved.id]: _, ...rest }) => rest);
      setNotice(done(saved)); // the cache has the account as saved
    }
  };

  const save = async (u: Account) => {
    const edit = editOf(u);
    const quota = parseQuotaGb(edit.quota);
    setNotice(null);
    if (quota === null) {
      setInvalid(u.id);
      setErrors([
        {
          code: 'BAD_USER_INPUT',
          field: 'storageQuotaGb',
          message: `The quota of ${u.username} must be a whole number of GB, from 0 to ${QUOTA_MAX_GB.toLocaleString('en-US')}.`,
          nextStep: 'Correct it and save again.',
        },
      ]);
      requestAnimationFrame(() => document.getElementById(quotaId(u))?.focus());
      return;
    }
    setInvalid(null);
    setBusy(u.id);
    const input: { subscriptionTier?: SubscriptionTier; storageQuotaGb?: number } = {};
    if (edit.tier !== u.subscriptionTier) input.subscriptionTier = edit.tier;
    if (quota !== u.storageQuotaGb) input.storageQuotaGb = quota;
    const res = await update({ id: u.id, input });
    after(res, (s) => `Saved: ${s.username} is on the ${tierLabel(s.subscriptionTier)} tier with ${s.storageQuotaGb} GB.`);
  };

  const toggleActive = async () => {
    if (!toggling) return;
    const u = toggling;
    setBusy(u.id);
    setNotice(null);
    const res = await update({ id: u.id, input: { isActive: !u.isActive } });
    setToggling(null);
    after(res, (s) => (s.isActive ? `${s.username} can sign in again.` : `${s.username} is disabled: their sessions and API keys stopped.`));
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Administration</h1>
          <p className="muted">Every account on this server, oldest first. Only administrators see this page.</p>
        </div>
      </div>
      <div role="status" aria-live="polite">
        {notice && <p className="notice notice-ok">{notice}</p>}
      </div>
      <ErrorNotice errors={errors} />
      <section className="card" aria-labelledby={`${id}-heading`}>
        <div className="card-head">
          <h2 id={`${id}-heading`}>Accounts</h2>
          <span className="muted" aria-live="polite">
            {conn ? formatCount(conn.totalCount, 'account') : result.fetching ? 'Loading…' : ''}
          </span>
        </div>
        <div className="files-toolbar row">
          <label className="visually-hidden" htmlFor={`${id}-search`}>
            Search by email address or username
          </label>
          <input
            id={`${id}-search`}
            type="search"
            name="search"
            placeholder="Search by email address or username"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
        </div>
        <ErrorNotice errors={describeErrors(result.error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
        {conn && conn.nodes.length === 0 && <p className="empty">{search ? `No account matches “${search}”.` : 'No accounts.'}</p>}
        {conn && conn.nodes.length > 0 && (
          <div className="table-wrap">
            <table className="table users-table" role="table">
              {/* Roles spelled out: on phones the rows are shown as cards, and CSS display
                  changes make some browsers forget that this is a table. */}
              <thead role="rowgroup">
                <tr role="row">
                  <th role="columnheader" scope="col">Username</th>
                  <th role="columnheader" scope="col">Email</th>
                  <th role="columnheader" scope="col">Tier</th>
                  <th role="columnheader" scope="col">Quota (GB)</th>
                  <th role="columnheader" scope="col" className="num">
                    Used
                  </th>
                  <th role="columnheader" scope="col">Active</th>
                  <th role="columnheader" scope="col">Verified</th>
                  <th role="columnheader" scope="col">Created</th>
                  <th role="columnheader" scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody role="rowgroup">
                {conn.nodes.map((u) => {
                  const edit = editOf(u);
                  const self = u.id === me.id;
                  return (
                    <tr role="row" key={u.id} data-username={u.username}>
                      <th role="rowheader" scope="row" className="user-cell">
                        <span className="user-name">{u.username}</span>
                        {u.role === 'ADMIN' && <span className="badge badge-running">Admin</span>}
                        {self && <span className="badge">You</span>}
                        {u.fullName && <span className="muted small user-full-name">{u.fullName}</span>}
                      </th>
                      <td role="cell" className="email-cell" data-label="Email">
                        {u.email}
                      </td>
                      <td role="cell" data-label="Tier">
                        <select
                          aria-label={`Tier of ${u.username}`}
                          name="tier"
                          value={edit.tier}
                          onChange={(e) => setEdit(u, { tier: e.target.value as SubscriptionTier })}
                        >
                          {TIERS.map((t) => (
                            <option key={t} value={t}>
                              {tierLabel(t)}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td role="cell" data-label="Quota (GB)">
                        <input
                          id={quotaId(u)}
                          className="quota-input"
                          type="number"
                          name="quota"
                          inputMode="numeric"
                          min={0}
                          max={QUOTA_MAX_GB}
                          step={1}
                          aria-label={`Quota in GB of ${u.username}`}
                          aria-invalid={invalid === u.id ? true : undefined}
                          value={edit.quota}
                          onChange={(e) => setEdit(u, { quota: e.target.value })}
                        />
                      </td>
                      <td role="cell" className="num" data-label="Used">
                        {formatBytes(u.storageUsedBytes)}
                      </td>
                      <td role="cell" data-label="Active">{u.isActive ? <span className="badge badge-completed">Active</span> : <span className="badge badge-failed">Disabled</span>}</td>
                      <td role="cell" data-label="Verified">{u.emailVerified ? 'Yes' : <span className="muted">No</span>}</td>
                      <td role="cell" className="muted nowrap" data-label="Created">
                        {formatDate(u.createdAt)}
                      </td>
                      <td role="cell" className="actions">
                        <button
                          type="button"
                          className="btn btn-small btn-primary"
                          disabled={!isDirty(u) || busy === u.id}
                          onClick={() => void save(u)}
                          aria-label={`Save tier and quota of ${u.username}`}
                        >
                          Save
                        </button>
                        {!self && (
                          <button
                            type="button"
                            className={`btn btn-small ${u.isActive ? 'btn-danger-quiet' : ''}`}
                            disabled={busy === u.id}
                            onClick={() => setToggling(u)}
                            aria-label={`${u.isActive ? 'Disable' : 'Enable'} ${u.username}`}
                          >
                            {u.isActive ? 'Disable…' : 'Enable…'}
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {conn && <PageNav {...pages.nav(conn)} />}
      </section>
      <ConfirmDialog
        open={!!toggling}
        title={toggling?.isActive ? `Disable ${toggling.username}?` : `Enable ${toggling?.username ?? ''}?`}
        confirmLabel={toggling?.isActive ? 'Disable account' : 'Enable account'}
        danger={!!toggling?.isActive}
        busy={!!toggling && busy === toggling.id}
        onCancel={() => setToggling(null)}
        onConfirm={() => void toggleActive()}
      >
        {toggling?.isActive ? (
          <p>
            {toggling.username} ({toggling.email}) can no longer sign in, and their sessions, API keys and live connections stop at
            once. Their files stay. You can enable the account again later.
          </p>
        ) : (
          <p>{toggling?.username} ({toggling?.email}) can sign in again, with the same files and settings.</p>
        )}
      </ConfirmDialog>
    </>
  );
}
