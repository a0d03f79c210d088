import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { LogoutMutation, MeQuery } from './documents';
import type { UserFieldsFragment } from '../../gql/graphql';
import { resetLiveConnection, session } from '../../api/runtime';
import { isCookieMarker, tokenStore } from './tokenStore';
import { RefreshError, type TokenPair } from './session';
import { useRefetchOnReconnect, useSession } from '../../hooks';

export type User = UserFieldsFragment;

interface AuthValue {
  status: 'signed-in' | 'signed-out' | 'unknown';
  /** Why the last session ended (shown on the sign-in page). */
  endedReason: string | null;
  /** The startup refresh could not reach the server. */
  startupError: boolean;
  /** The startup refresh was rate limited: seconds until it is tried again by itself. */
  startupRetryAfter: number | null;
  retryStartup: () => void;
  user: User | null;
  signIn: (pair: TokenPair & { user: User }) => void;
  signOut: () => Promise<void>;
  /**
   * Ends the session here without telling the server, for when the server has ended it
   * already (a password reset, a deleted account); `reason` is shown on the sign-in page.
   */
  endLocally: (reason: string) => void;
  reloadUser: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const state = useSession();
  const [startupError, setStartupError] = useState(false);
  const [startupRetryAfter, setStartupRetryAfter] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [signedInUser, setSignedInUser] = useState<User | null>(null);
  const [, logout] = useMutation(LogoutMutation);

  // A session from an earlier visit: another tab's access token, or a refresh.
  useEffect(() => {
    if (state.status !== 'unknown') return;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    session.restore().then(
      () => {
        if (cancelled) return;
        setStartupError(false);
        setStartupRetryAfter(null);
      },
      (error: unknown) => {
        if (cancelled) return;
        setStartupError(true);
        // Limited is not unreachable: say when, and try again by itself then.
        const limited = error instanceof RefreshError && error.kind === 'limited' ? (error.retryAfter ?? 5) : null;
        setStartupRetryAfter(limited);
        if (limited !== null) retry = setTimeout(() => setAttempt((n) => n + 1), limited * 1000);
      },
    );
    return () => {
      cancelled = true;
      if (retry) clearTimeout(retry);
    };
  }, [state.status, attempt]);

  const [me, reexecuteMe] = useQuery({ query: MeQuery, pause: state.status !== 'signed-in' });
  useRefetchOnReconnect(() => state.status === 'signed-in' && reexecuteMe({ requestPolicy: 'network-only' }));

  useEffect(() => {
    if (state.status === 'signed-out') resetLiveConnection();
  }, [state.status]);

  const signIn = useCallback((pair: TokenPair & { user: User }) => {
    resetLiveConnection();
    setSignedInUser(pair.user);
    session.start(pair);
  }, []);

  const signOut = useCallback(async () => {
    const stored = tokenStore.get();
    if (stored) {
      // Best effort: the local sign-out happens even if the server cannot be told. The
      // cookie names the session; only a legacy stored token is sent in the body.
      await logout(isCookieMarker(stored) ? {} : { refreshToken: stored }).catch(() => undefined);
    }
    session.signOut('You signed out.');
  }, [logout]);

  const endLocally = useCallback((reason: string) => session.signOut(reason), []);

  const reloadUser = useCallback(() => reexecuteMe({ requestPolicy: 'network-only' }), [reexecuteMe]);

  const value = useMemo<AuthValue>(
    () => ({
      status: state.status,
      endedReason: state.endedReason,
      startupError,
      startupRetryAfter,
      retryStartup: () => setAttempt((n) => n + 1),
      user: state.status === 'signed-in' ? (me.data?.me ?? signedInUser) : null,
      signIn,
      signOut,
      endLocally,
      reloadUser,
    }),
    [state, startupError, startupRetryAfter, me.data, signedInUser, signIn, signOut, endLocally, reloadUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}
