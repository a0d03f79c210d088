import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ChangeEmailMutation,
  ChangePasswordMutation,
  DeleteAccountMutation,
  ExportAccountMutation,
  RevokeSessionMutation,
  SessionsQuery,
  UpdateProfileMutation,
} from './documents';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { useAuth, type User } from '../auth/AuthContext';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, useFormErrors } from '../../components/Field';
import { useDocumentTitle } from '../../hooks';
import { changePasswordProblems, deleteAccountProblems, emailChangeProblems, profileChanges, profileProblems } from '../../lib/accountChecks';
import { startDownload } from '../../lib/download';
import { formatBytes, formatDate, formatDateTime, tierLabel } from '../../lib/format';
import { navigate } from '../../router';

export const ACCOUNT_DELETED = 'Your account was deleted, with your files and everything else in it.';

/** A CONFLICT from the server is about one field of the form: shown beside it. */
function conflictAt(errors: FriendlyError[], field: string, message: string, nextStep: string): FriendlyError[] {
  return errors.map((e) => (e.code === 'CONFLICT' ? { ...e, field, message, nextStep } : e));
}

/** What went well, announced; errors are announced by ErrorNotice. */
function Status({ children }: { children: ReactNode }) {
  return (
    <div role="status" aria-live="polite">
      {children && <p className="notice notice-ok">{children}</p>}
    </div>
  );
}

/** One part of the page: its heading and what it does beside (above, on phones) its form. */
function Section({ id, anchor, title, intro, danger, children }: { id: string; anchor: string; title: string; intro: ReactNode; danger?: boolean; children: ReactNode }) {
  return (
    <section className={`card settings-section${danger ? ' danger-zone' : ''}`} id={anchor} aria-labelledby={`${id}-heading`}>
      <div className="settings-intro">
        <h2 id={`${id}-heading`}>{title}</h2>
        {intro}
      </div>
      <div className="settings-body">{children}</div>
    </section>
  );
}

export function SettingsPage() {
  useDocumentTitle('Settings');
  const { user } = useAuth();
  if (!user) return null;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <p className="muted">
            Signed in as <strong>{user.username}</strong> ({user.email}) · {tierLabel(user.subscriptionTier)} plan · {formatBytes(user.storageUsedBytes)} of{' '}
            {user.storageQuotaGb} GB used{user.role === 'ADMIN' ? ' · Administrator' : ''} · member since {formatDate(user.createdAt)}
          </p>
        </div>
      </div>
      <ProfileSection user={user} />
      <PasswordSection user={user} />
      <EmailSection user={user} />
      <SessionsSection />
      <ExportSection user={user} />
      <DeleteSection user={user} />
    </>
  );
}

function ProfileSection({ user }: { user: User }) {
  const id = useId();
  const [form, setForm] = useState({ fullName: user.fullName ?? '', username: user.username });
  const [saved, setSaved] = useState<string | null>(null);
  const [state, run] = useMutation(UpdateProfileMutation);
  const { show, byField, others } = useFormErrors(id, ['fullName', 'username']);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    const problems = profileProblems(form);
    if (problems.length > 0) {
      show(problems);
      return;
    }
    const changes = profileChanges(form, user);
    if (Object.keys(changes).length === 0) {
      show([]);
      setSaved('Nothing changed: your profile is as shown.');
      return;
    }
    const res = await run({ input: changes });
    show(conflictAt(describeErrors(res.error), 'username', 'Another account uses this username.', 'Choose another one.'));
    const updated = res.data?.updateProfile;
    if (updated) {
      setForm({ fullName: updated.fullName ?? '', username: updated.username });
      setSaved(changes.username ? `Profile saved. Sign in as ${updated.username} from now on.` : 'Profile saved.');
    }
  };

  return (
    <Section id={id} anchor="profile" title="Profile" intro={<p className="muted small">Your name, and the username you sign in with (your email address works too).</p>}>
      <form className="form" onSubmit={submit} noValidate>
        <Field
          id={`${id}-fullName`}
          label="Full name"
          value={form.fullName}
          onChange={set('fullName')}
          autoComplete="name"
          error={byField.fullName}
          hint="Optional. Leave it empty to remove it."
          required={false}
        />
        <Field
          id={`${id}-username`}
          label="Username"
          value={form.username}
          onChange={set('username')}
          autoComplete="username"
          error={byField.username}
          hint="3 to 32 letters, digits, _ or -. You sign in with it (or your email address)."
        />
        <ErrorNotice errors={others} />
        <div>
          <button type="submit" className="btn btn-primary" disabled={state.fetching}>
            {state.fetching ? 'Saving…' : 'Save profile'}
          </button>
        </div>
      </form>
      <Status>{saved}</Status>
    </Section>
  );
}

function PasswordSection({ user }: { user: User }) {
  const id = useId();
  const empty = { currentPassword: '', newPassword: '', repeatPassword: '' };
  const [form, setForm] = useState(empty);
  const [saved, setSaved] = useState<string | null>(null);
  const [state, run] = useMutation(ChangePasswordMutation);
  const { show, byField, others } = useFormErrors(id, ['currentPassword', 'newPassword', 'repeatPassword']);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    const problems = changePasswordProblems(form);
    if (problems.length > 0) {
      show(problems);
      return;
    }
    const res = await run({ currentPassword: form.currentPassword, newPassword: form.newPassword });
    show(describeErrors(res.error));
    if (res.data?.changePassword) {
      setForm(empty);
      setSaved('Password changed. Every other session of your account was signed out; this one goes on.');
    }
  };

  return (
    <Section
      id={id}
      anchor="password"
      title="Password"
      intro={<p className="muted small">Changing it signs out your other sessions (other browsers and devices); this one goes on. API keys keep working.</p>}
    >
      <form className="form" onSubmit={submit} noValidate>
        {/* For password managers: whose password this is. */}
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        <Field
          id={`${id}-currentPassword`}
          label="Current password"
          type="password"
          value={form.currentPassword}
          onChange={set('currentPassword')}
          autoComplete="current-password"
          error={byField.currentPassword}
        />
        <Field
          id={`${id}-newPassword`}
          label="New password"
          type="password"
          value={form.newPassword}
          onChange={set('newPassword')}
          autoComplete="new-password"
          error={byField.newPassword}
          hint="8 to 128 characters. A few words make a strong one."
        />
        <Field
          id={`${id}-repeatPassword`}
          label="New password again"
          type="password"
          value={form.repeatPassword}
          onChange={set('repeatPassword')}
          autoComplete="new-password"
          error={byField.repeatPassword}
        />
        <ErrorNotice errors={others} />
        <div>
          <button type="submit" className="btn btn-primary" disabled={state.fetching}>
            {state.fetching ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
      <Status>{saved}</Status>
    </Section>
  );
}

function EmailSection({ user }: { user: User }) {
  const id = useId();
  const [form, setForm] = useState({ newEmail: '', password: '' });
  const [asked, setAsked] = useState<{ to: string; from: string } | null>(null);
  const [state, run] = useMutation(ChangeEmailMutation);
  const { show, byField, others } = useFormErrors(id, ['newEmail', 'password']);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setAsked(null);
    const problems = emailChangeProblems(form, user.email);
    if (problems.length > 0) {
      show(problems);
      return;
    }
    const newEmail = form.newEmail.trim();
    const res = await run({ newEmail, password: form.password });
    show(conflictAt(describeErrors(res.error), 'newEmail', 'Another account uses this address.', 'Choose another address.'));
    if (res.data?.changeEmail) {
      setForm({ newEmail: '', password: '' });
      setAsked({ to: newEmail, from: user.email });
    }
  };

  return (
    <Section
      id={id}
      anchor="email"
      title="Email address"
      intro={<p className="muted small">Mail about your account goes here. A new address counts once you open the link we send to it.</p>}
    >
      <p>
        Now: <strong>{user.email}</strong>{' '}
        {user.emailVerified ? <span className="badge badge-completed">Confirmed</span> : <span className="badge badge-cancelled">Not confirmed</span>}
      </p>
      <form className="form" onSubmit={submit} noValidate>
        <Field id={`${id}-newEmail`} label="New email address" type="email" value={form.newEmail} onChange={set('newEmail')} autoComplete="email" error={byField.newEmail} />
        <Field
          id={`${id}-password`}
          label="Your password"
          type="password"
          value={form.password}
          onChange={set('password')}
          autoComplete="current-password"
          error={byField.password}
          hint="To make sure it is you."
        />
        <ErrorNotice errors={others} />
        <div>
          <button type="submit" className="btn btn-primary" disabled={state.fetching}>
            {state.fetching ? 'Sending…' : 'Change email address'}
          </button>
        </div>
      </form>
      <Status>
        {asked && (
          <>
            <strong>Check your new inbox.</strong> A link went to {asked.to}: your address changes when you open it (within 24 hours).
            Until then it stays {asked.from}, which we told about the change.
          </>
        )}
      </Status>
    </Section>
  );
}

/** Where the account is signed in: one row per sign-in, each can be ended. */
function SessionsSection() {
  const id = useId();
  const [list] = useQuery({ query: SessionsQuery, requestPolicy: 'cache-and-network' });
  const [state, revoke] = useMutation(RevokeSessionMutation);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [ended, setEnded] = useState(false);
  const sessions = list.data?.sessions ?? [];

  const end = async (sessionId: string) => {
    setErrors([]);
    setEnded(false);
    const res = await revoke({ id: sessionId });
    if (res.error) {
      setErrors(describeErrors(res.error));
      return;
    }
    setEnded(true); // the cache's update took it off the list
  };

  return (
    <Section
      id={id}
      anchor="sessions"
      title="Where you are signed in"
      intro={<p className="muted small">Each browser or device you signed in with. Signing one out ends it within a second, there and in its other tabs.</p>}
    >
      <ErrorNotice errors={[...describeErrors(list.error), ...errors]} />
      {list.fetching && sessions.length === 0 ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="session-list" aria-label="Signed-in sessions">
          {sessions.map((s) => (
            <li key={s.id} className="session-row">
              <div>
                <strong>{s.current ? 'This browser' : 'Another browser or device'}</strong>
                <div className="muted small">
                  Signed in {formatDateTime(s.signedInAt)} · last active {formatDateTime(s.lastActiveAt)}
                </div>
              </div>
              {!s.current && (
                <button type="button" className="btn" onClick={() => end(s.id)} disabled={state.fetching}>
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <Status>{ended && 'That session is signed out.'}</Status>
    </Section>
  );
}

function ExportSection({ user }: { user: User }) {
  const id = useId();
  const [state, run] = useMutation(ExportAccountMutation);
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [started, setStarted] = useState(false);

  const download = async () => {
    setErrors([]);
    setStarted(false);
    const res = await run({});
    const url = res.data?.exportAccount;
    if (!url) {
      setErrors(describeErrors(res.error));
      return;
    }
    startDownload(url);
    setStarted(true);
  };

  return (
    <Section
      id={id}
      anchor="export"
      title="Export your data"
      intro={<p className="muted small">Everything of yours in one zip file, to keep or to take elsewhere.</p>}
    >
      <p>
        One zip file: your files ({formatBytes(user.storageUsedBytes)}) under <code>files/</code>, and <code>account.json</code> with your profile,
        category rules and operations.
      </p>
      <ErrorNotice errors={errors} />
      <div>
        <button type="button" className="btn" onClick={download} disabled={state.fetching}>
          {state.fetching ? 'Preparing…' : 'Download everything'}
        </button>
      </div>
      <Status>{started && 'Your download has started: your browser saves the zip file (for a large account, that takes a while).'}</Status>
    </Section>
  );
}

function DeleteSection({ user }: { user: User }) {
  const id = useId();
  const { endLocally } = useAuth();
  const [form, setForm] = useState({ confirmUsername: '', password: '' });
  const [state, run] = useMutation(DeleteAccountMutation);
  const { show, byField, others } = useFormErrors(id, ['confirmUsername', 'password']);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = deleteAccountProblems(form, user.username);
    if (problems.length > 0) {
      show(problems);
      return;
    }
    const res = await run({ password: form.password });
    show(describeErrors(res.error));
    if (res.data?.deleteAccount) {
      endLocally(ACCOUNT_DELETED);
      navigate('/login', { replace: true });
    }
  };

  return (
    <Section
      id={id}
      anchor="delete-account"
      title="Delete account"
      danger
      intro={
        <p className="small">
          <strong>This cannot be undone.</strong>
        </p>
      }
    >
      <p>Deleting your account deletes, for good:</p>
      <ul className="danger-list">
        <li>your files ({formatBytes(user.storageUsedBytes)}) and your trash;</li>
        <li>your operations and their history (running ones stop);</li>
        <li>your category rules and API keys;</li>
        <li>every session: you are signed out everywhere.</li>
      </ul>
      <form className="form" onSubmit={submit} noValidate>
        <Field
          id={`${id}-confirmUsername`}
          label={`Type your username, ${user.username}, to confirm`}
          value={form.confirmUsername}
          onChange={set('confirmUsername')}
          autoComplete="off"
          error={byField.confirmUsername}
        />
        <Field id={`${id}-password`} label="Your password" type="password" value={form.password} onChange={set('password')} autoComplete="current-password" error={byField.password} />
        <ErrorNotice errors={others} />
        <div>
          <button type="submit" className="btn btn-danger" disabled={state.fetching}>
            {state.fetching ? 'Deleting…' : 'Delete my account for good'}
          </button>
        </div>
      </form>
    </Section>
  );
}
