// The pages mail links lead to, and the way to ask for one: confirm an address,
// forgot password, choose a new password. They work signed in or out.
import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { useClient, useMutation, type OperationResult } from 'urql';
import { RequestPasswordResetMutation, ResetPasswordMutation, VerifyEmailMutation } from './documents';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { useAuth } from '../auth/AuthContext';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, useFormErrors } from '../../components/Field';
import type { VerifyEmailMutation as VerifyEmailResult } from '../../gql/graphql';
import { useDocumentTitle } from '../../hooks';
import { forgotPasswordProblems, newPasswordProblems } from '../../lib/accountChecks';
import { Link, navigate, useSearchParam } from '../../router';
import { AuthFrame } from '../auth/AuthPages';

export const PASSWORD_RESET_DONE = 'Your password is changed, and every session of your account has ended. Sign in with the new password.';

function invalidLink(nextStep: string): FriendlyError {
  return { code: 'BAD_USER_INPUT', field: 'token', message: 'This link is invalid, used or expired.', nextStep };
}

/** A link's token refused by the server: the same words whatever the reason. */
function isBadToken(errors: FriendlyError[]): boolean {
  return errors.some((e) => e.code === 'BAD_USER_INPUT' && e.field === 'token');
}

// One verifyEmail per token and attempt, even when React runs the effect twice (StrictMode)
// or the page is rendered again after the session changes: a token works only once.
const verifications = new Map<string, Promise<OperationResult<VerifyEmailResult>>>();

/** /verify-email?token=…: confirms the address once, on load. */
export function VerifyEmailPage() {
  useDocumentTitle('Confirm your email address');
  const token = useSearchParam('token');
  const client = useClient();
  const { status, reloadUser } = useAuth();
  const signedIn = status === 'signed-in';
  const [attempt, setAttempt] = useState(0);
  const [outcome, setOutcome] = useState<{ key: string; email: string | null; errors: FriendlyError[] } | null>(null);
  const key = `${token ?? ''}#${attempt}`;

  useEffect(() => {
    if (!token) return;
    let live = true;
    let pending = verifications.get(key);
    if (!pending) {
      pending = client.mutation(VerifyEmailMutation, { token }, { requestPolicy: 'network-only' }).toPromise();
      verifications.set(key, pending);
    }
    void pending.then((res) => {
      if (!live) return;
      setOutcome({ key, email: res.data?.verifyEmail.email ?? null, errors: describeErrors(res.error) });
    });
    return () => {
      live = false;
    };
  }, [client, key, token]);

  const done = outcome?.key === key ? outcome : null;
  const confirmed = !!done?.email;
  // The banner asking to confirm goes away: the account is read again.
  useEffect(() => {
    if (confirmed && signedIn) reloadUser();
  }, [confirmed, signedIn, reloadUser]);

  const onward = signedIn ? <Link to="/files">Go to your files</Link> : <Link to="/login">Sign in</Link>;
  const nextStep = signedIn
    ? 'Links work once, for 24 hours. Ask for a new one with “Send the link” at the top of the page.'
    : 'Links work once, for 24 hours. Sign in, then ask for a new one with “Send the link” at the top of the page.';
  let body: ReactNode;
  if (!token) {
    body = <ErrorNotice errors={[invalidLink(nextStep)]} />;
  } else if (!done) {
    body = <p className="muted">Confirming your address…</p>;
  } else if (done.email) {
    body = (
      <p className="notice notice-ok">
        <strong>Your email address {done.email} is confirmed.</strong> Thank you.
      </p>
    );
  } else if (isBadToken(done.errors)) {
    body = <ErrorNotice errors={[invalidLink(nextStep)]} />;
  } else {
    body = <ErrorNotice errors={done.errors} onRetry={done.errors.some((e) => e.code === 'NETWORK' || e.code === 'RATE_LIMITED' || e.code === 'INTERNAL_SERVER_ERROR') ? () => setAttempt((n) => n + 1) : undefined} />;
  }
  const content = (
    <>
      <div aria-live="polite" aria-busy={!!token && !done}>
        {body}
      </div>
      {(!token || done) && <p>{onward}</p>}
    </>
  );
  if (signedIn) {
    return (
      <>
        <h1>Confirm your email address</h1>
        <div className="card narrow-card">{content}</div>
      </>
    );
  }
  return <AuthFrame title="Confirm your email address">{content}</AuthFrame>;
}

/** /forgot-password: asks for a reset link. */
export function ForgotPasswordPage() {
  useDocumentTitle('Forgot your password?');
  const id = useId();
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [state, run] = useMutation(RequestPasswordResetMutation);
  const { show, byField, others } = useFormErrors(id, ['email']);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSentTo(null);
    const problems = forgotPasswordProblems(email);
    if (problems.length > 0) {
      show(problems);
      return;
    }
    const address = email.trim();
    const res = await run({ email: address });
    show(describeErrors(res.error));
    if (res.data?.requestPasswordReset) setSentTo(address);
  };

  return (
    <AuthFrame title="Forgot your password?">
      <p className="muted">Type the email address of your account: we mail it a link to choose a new password.</p>
      <form className="form" onSubmit={submit} noValidate>
        <Field id={`${id}-email`} label="Email" type="email" value={email} onChange={setEmail} autoComplete="email" error={byField.email} />
        <ErrorNotice errors={others} />
        <button type="submit" className="btn btn-primary btn-block" disabled={state.fetching}>
          {state.fetching ? 'Sending…' : 'Send the link'}
        </button>
      </form>
      <div role="status" aria-live="polite">
        {sentTo && (
          <p className="notice notice-ok">
            <strong>If an account uses this address, a link is on its way</strong> to {sentTo}. It works once, for 30 minutes. Nothing
            after a few minutes? Look in the spam folder, or check the address.
          </p>
        )}
      </div>
      <p>
        Remembered it? <Link to="/login">Sign in</Link>
      </p>
    </AuthFrame>
  );
}

/** /reset-password?token=…: a new password, typed twice. */
export function ResetPasswordPage() {
  useDocumentTitle('Choose a new password');
  const token = useSearchParam('token');
  const { endLocally } = useAuth();
  const id = useId();
  const [form, setForm] = useState({ newPassword: '', repeatPassword: '' });
  const [badLink, setBadLink] = useState(false);
  const [state, run] = useMutation(ResetPasswordMutation);
  const { show, byField, others } = useFormErrors(id, ['newPassword', 'repeatPassword']);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = newPasswordProblems(form.newPassword, form.repeatPassword);
    if (problems.length > 0 || !token) {
      show(problems);
      return;
    }
    const res = await run({ token, newPassword: form.newPassword });
    const errors = describeErrors(res.error);
    if (isBadToken(errors)) {
      setBadLink(true);
      return;
    }
    show(errors);
    if (res.data?.resetPassword) {
      // Every session of the account ended on the server, this one too.
      endLocally(PASSWORD_RESET_DONE);
      navigate('/login', { replace: true });
    }
  };

  if (!token || badLink) {
    return (
      <AuthFrame title="Choose a new password">
        <ErrorNotice errors={[invalidLink('Reset links work once, for 30 minutes. Ask for a new one.')]} />
        <p>
          <Link to="/forgot-password">Ask for a new link</Link> · <Link to="/login">Sign in</Link>
        </p>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Choose a new password">
      <form className="form" onSubmit={submit} noValidate>
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
        <button type="submit" className="btn btn-primary btn-block" disabled={state.fetching}>
          {state.fetching ? 'Saving…' : 'Set the new password'}
        </button>
      </form>
      <p className="muted small">Every session of your account ends: you sign in again with the new password.</p>
    </AuthFrame>
  );
}
