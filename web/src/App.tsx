import { useEffect, useMemo, useRef, useState } from 'react';
import { Provider } from 'urql';
import { makeUrqlClient, session } from './api/runtime';
import { replayOtherTabs } from './api/tabEcho';
import { AuthProvider, useAuth } from './features/auth/AuthContext';
import { Layout } from './components/Layout';
import { useSession } from './hooks';
import { clearProgress } from './live/progressStore';
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from './features/account/AccountPages';
import { AdminPage } from './features/admin/AdminPage';
import { LoginPage, SignupPage, StartupProblem } from './features/auth/AuthPages';
import { FilesPage } from './features/files/FilesPage';
import { KeysPage } from './features/keys/KeysPage';
import { OperationDetailPage } from './features/operations/OperationDetailPage';
import { OperationsPage } from './features/operations/OperationsPage';
import { TrashPage } from './features/trash/TrashPage';
import { RulesPage } from './features/rules/RulesPage';
import { SettingsPage } from './features/account/SettingsPage';
import { NotFound } from './components/NotFound';
import { matchPath, navigate, useLocation } from './router';

/** Only for the signed out: signed in, they lead to the files. */
const PUBLIC = ['/login', '/signup', '/forgot-password'];
/** Where mail links lead: signed in or out, nobody is sent elsewhere. */
const OPEN = ['/verify-email', '/reset-password'];

export function Root() {
  const { status } = useSession();
  const [generation, setGeneration] = useState(0);
  const previous = useRef(status);
  useEffect(() => {
    // A new urql client (empty cache) after each sign-out: no data of one account leaks into the next.
    if (previous.current !== status && status === 'signed-out') {
      setGeneration((g) => g + 1);
      clearProgress();
    }
    previous.current = status;
  }, [status]);
  const client = useMemo(() => {
    void generation;
    return makeUrqlClient();
  }, [generation]);
  // Changes made in the other tabs, that no server event tells of, reach this tab's cache.
  useEffect(() => replayOtherTabs(client, () => session.getState().status === 'signed-in'), [client]);
  return (
    <Provider value={client}>
      <AuthProvider>
        <App />
      </AuthProvider>
    </Provider>
  );
}

function App() {
  const { status, startupError, startupRetryAfter, retryStartup } = useAuth();
  const { pathname } = useLocation();
  const isPublic = PUBLIC.includes(pathname);
  const isOpen = OPEN.includes(pathname);

  useEffect(() => {
    if (isOpen) return;
    if (status === 'signed-out' && !isPublic) {
      const next = pathname === '/' ? '' : `?next=${encodeURIComponent(pathname + window.location.search)}`;
      navigate(`/login${next}`, { replace: true });
    } else if (status === 'signed-in' && (isPublic || pathname === '/')) {
      navigate('/files', { replace: true });
    }
  }, [status, isPublic, isOpen, pathname]);

  if (status === 'unknown') {
    return startupError ? (
      <StartupProblem onRetry={retryStartup} retryAfter={startupRetryAfter} />
    ) : (
      <p className="loading-screen" role="status">
        Loading…
      </p>
    );
  }
  // A reset link is used signed out, and ends every session anyway: never inside the app.
  if (pathname === '/reset-password') return <ResetPasswordPage />;
  if (status === 'signed-out') {
    if (pathname === '/signup') return <SignupPage />;
    if (pathname === '/forgot-password') return <ForgotPasswordPage />;
    if (pathname === '/verify-email') return <VerifyEmailPage />;
    return <LoginPage />;
  }
  return <Layout>{route(pathname)}</Layout>;
}

function route(pathname: string) {
  if (pathname === '/files' || pathname === '/') return <FilesPage />;
  if (pathname === '/operations') return <OperationsPage />;
  const op = matchPath('/operations/:id', pathname);
  if (op) return <OperationDetailPage id={op.id} />;
  if (pathname === '/rules') return <RulesPage />;
  if (pathname === '/trash') return <TrashPage />;
  if (pathname === '/keys') return <KeysPage />;
  if (pathname === '/settings') return <SettingsPage />;
  if (pathname === '/admin') return <AdminPage />;
  if (pathname === '/verify-email') return <VerifyEmailPage />;
  return <NotFound pathname={pathname} />;
}
