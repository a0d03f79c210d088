import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { LoginMutation, SignupMutation } from './documents';
import { describeErrors, fieldErrors, otherErrors, type FriendlyError } from '../../api/errors';
import { useAuth } from './AuthContext';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { useDocumentTitle } from '../../hooks';
import { Link, navigate } from '../../router';
import { signupProblems } from '../../lib/signupChecks';

export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="auth-shell">
      <main id="main" className="auth-card card">
        <p className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Organizer
        </p>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

export function LoginPage() {
  useDocumentTitle('Sign in');
  const { signIn, endedReason } = useAuth();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [state, run] = useMutation(LoginMutation);
  const id = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await run({ input: { login: login.trim(), password } });
    setErrors(describeErrors(result.error, 'login'));
    if (result.data?.login) {
      signIn(result.data.login);
      navigate(nextPath(), { replace: true });
    }
  };
  const byField = fieldErrors(errors);
  return (
    <AuthFrame title="Sign in">
      {endedReason && errors.length === 0 && (
        <p className="notice notice-info" role="status">
          {endedReason}
        </p>
      )}
      <form className="form" onSubmit={submit} noValidate>
        <Field id={`${id}-login`} label="Email or username" value={login} onChange={setLogin} autoComplete="username" error={byField.login} />
        <Field
          id={`${id}-password`}
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
          error={byField.password}
        />
        <ErrorNotice errors={otherErrors(errors, ['login', 'password'])} />
        <button type="submit" className="btn btn-primary btn-block" disabled={state.fetching}>
          {state.fetching ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="forgot-link">
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </AuthFrame>
  );
}

export function SignupPage() {
  useDocumentTitle('Create an account');
  const { signIn } = useAuth();
  const [form, setForm] = useState({ email: '', username: '', password: '', fullName: '' });
  const [errors, setErrors] = useState<FriendlyError[]>([]);
  const [state, run] = useMutation(SignupMutation);
  const id = useId();
  const set = (key: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [key]: v }));

  // Focus goes to the first field in error, so a keyboard or screen-reader user lands on it.
  const showErrors = (found: FriendlyError[]) => {
    setErrors(found);
    const first = ['fullName', 'email', 'username', 'password'].find((f) => found.some((e) => e.field === f));
    if (first) requestAnimationFrame(() => document.getElementById(`${id}-${first}`)?.focus());
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = signupProblems(form);
    if (problems.length > 0) {
      showErrors(problems);
      return;
    }
    const result = await run({
      input: {
        email: form.email.trim(),
        username: form.username.trim(),
        password: form.password,
        fullName: form.fullName.trim() || null,
      },
    });
    showErrors(describeErrors(result.error, 'signup'));
    if (result.data?.signup) {
      signIn(result.data.signup);
      navigate('/files', { replace: true });
    }
  };
  const byField = fieldErrors(errors);
  return (
    <AuthFrame title="Create an account">
      <form className="form" onSubmit={submit} noValidate>
        <Field id={`${id}-fullName`} label="Full name" value={form.fullName} onChange={set('fullName')} autoComplete="name" error={byField.fullName} required={false} />
        <Field id={`${id}-email`} label="Email" type="email" value={form.email} onChange={set('email')} autoComplete="email" error={byField.email} />
        <Field
          id={`${id}-username`}
          label="Username"
          value={form.username}
          onChange={set('username')}
          autoComplete="username"
          error={byField.username}
          hint="3 to 32 letters, digits, _ or -."
        />
        <Field
          id={`${id}-password`}
          label="Password"
          type="password"
          value={form.password}
          onChange={set('password')}
          autoComplete="new-password"
          error={byField.password}
          hint="8 to 128 characters. A few words make a strong one."
        />
        <ErrorNotice errors={otherErrors(errors, ['email', 'username', 'password', 'fullName'])} />
        <button type="submit" className="btn btn-primary btn-block" disabled={state.fetching}>
          {state.fetching ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthFrame>
  );
}

function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/files';
}

export function StartupProblem({ onRetry, retryAfter }: { onRetry: () => void; retryAfter: number | null }) {
  if (retryAfter !== null) {
    return (
      <AuthFrame title="Too many requests right now">
        <ErrorNotice
          errors={[
            {
              code: 'RATE_LIMITED',
              message: 'Your session is fine, but the server asks to wait before it is restored.',
              nextStep: `Trying again in ${retryAfter} s.`,
            },
          ]}
          onRetry={onRetry}
        />
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Cannot reach the server">
      <ErrorNotice
        errors={[{ code: 'NETWORK', message: 'Your session could not be restored because the server does not answer.', nextStep: 'Check your connection and try again.' }]}
        onRetry={onRetry}
      />
    </AuthFrame>
  );
}
