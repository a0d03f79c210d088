// The signed-in session: the access token (in memory only), its expiry, and the
// refresh logic. Refreshes are deduplicated within a tab and serialized across tabs
// (see lock.ts); inside the lock the refresh token is re-read from the store, so a
// tab never presents a token another tab has already rotated.

import type { TokenStore } from './tokenStore';
import type { LockRunner } from './lock';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

/**
 * Thrown by a RefreshFn. `unauthenticated`: the server refused the token (session over);
 * `limited`: too many refreshes, try again in `retryAfter` seconds (the session is kept).
 */
export class RefreshError extends Error {
  readonly kind: 'unauthenticated' | 'limited' | 'network' | 'other';
  readonly retryAfter: number | undefined;
  constructor(kind: 'unauthenticated' | 'limited' | 'network' | 'other', message: string, retryAfter?: number) {
    super(message);
    this.kind = kind;
    this.retryAfter = retryAfter;
    this.name = 'RefreshError';
  }
}

export type RefreshFn = (refreshToken: string) => Promise<TokenPair>;

export type SessionStatus = 'signed-in' | 'signed-out' | 'unknown';

export interface SessionState {
  status: SessionStatus;
  /** Why the session ended, for the sign-in page. */
  endedReason: string | null;
}

/** What tabs of this origin tell each other about the access token. */
export type TabMessage = { type: 'ask' } | { type: 'token'; accessToken: string; expiresAt: number };

/** How tabs talk (a BroadcastChannel in the browser: same origin only). */
export interface TabChannel {
  post(message: TabMessage): void;
  listen(handler: (message: TabMessage) => void): void;
}

/** How long a new tab waits for another tab's access token before refreshing itself. */
export const ASK_TABS_MS = 250;

export interface SessionOptions {
  store: TokenStore;
  refresh: RefreshFn;
  lock: LockRunner;
  /** Shares the access token with other tabs, so that one refresh serves them all. */
  channel?: TabChannel | null;
  now?: () => number;
  /** Refresh this long before the access token expires. */
  marginMs?: number;
  /** Schedule proactive refreshes (off in some tests). */
  schedule?: boolean;
}

export const SESSION_ENDED_MESSAGE =
  'Your session has ended (it expired or was signed out elsewhere). Please sign in again.';

export class SessionManager {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private inflight: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<() => void>();
  private state: SessionState;
  private readonly opts: Required<SessionOptions>;

  constructor(options: SessionOptions) {
    this.opts = { now: Date.now, marginMs: 60_000, schedule: true, channel: null, ...options };
    this.state = {
      status: this.opts.store.get() ? 'unknown' : 'signed-out',
      endedReason: null,
    };
    this.opts.store.onExternalChange((token) => {
      if (!token && this.state.status !== 'signed-out') this.end(SESSION_ENDED_MESSAGE, false);
    });
    this.opts.channel?.listen((message) => {
      if (message.type === 'ask') {
        if (this.state.status === 'signed-in' && this.accessToken && !this.needsRefresh()) {
          this.opts.channel?.post({ type: 'token', accessToken: this.accessToken, expiresAt: this.expiresAt });
        }
      } else if (this.hasSession() && this.state.status !== 'signed-out' && message.expiresAt > this.expiresAt) {
        this.adopt(message.accessToken, message.expiresAt);
      }
    });
  }

  /** Another tab's newer access token: used as if this tab had refreshed. */
  private adopt(accessToken: string, expiresAt: number): void {
    this.accessToken = accessToken;
    this.expiresAt = expiresAt;
    if (this.state.status !== 'signed-in') this.setState({ status: 'signed-in', endedReason: null });
    this.scheduleRefresh();
  }

  /**
   * At startup: another open tab's access token if one answers within `ASK_TABS_MS`,
   * else a refresh. A reload then costs no refresh while another tab is open.
   */
  async restore(): Promise<string | null> {
    const channel = this.opts.channel;
    if (channel && this.hasSession()) {
      channel.post({ type: 'ask' });
      const deadline = Date.now() + ASK_TABS_MS;
      while (Date.now() < deadline && this.needsRefresh()) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (!this.needsRefresh()) return this.accessToken;
    }
    return this.refresh();
  }

  getState(): SessionState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A refresh token exists (we are, or may be, signed in). */
  hasSession(): boolean {
    return this.opts.store.get() !== null;
  }

  getAccessToken(): string | null {
    return this.accessToken;
  }

  /** The access token is missing or expires within the margin. */
  needsRefresh(): boolean {
    return !this.accessToken || this.opts.now() >= this.expiresAt - this.opts.marginMs;
  }

  /** After signup, login or a refresh. */
  start(pair: TokenPair): void {
    this.opts.store.set(pair.refreshToken);
    this.accessToken = pair.accessToken;
    this.expiresAt = this.opts.now() + pair.expiresIn * 1000;
    this.setState({ status: 'signed-in', endedReason: null });
    this.scheduleRefresh();
    // Tabs waiting to refresh take this one instead.
    this.opts.channel?.post({ type: 'token', accessToken: pair.accessToken, expiresAt: this.expiresAt });
  }

  /** A valid access token, refreshing first when it is about to expire. Null when signed out. */
  async freshAccessToken(): Promise<string | null> {
    if (!this.hasSession()) return null;
    if (!this.needsRefresh()) return this.accessToken;
    return this.refresh();
  }

  /**
   * Trades the stored refresh token for a new pair. Concurrent callers in this tab
   * share one request; other tabs wait on the lock. Resolves null when the session
   * ended (refresh refused); rejects on network trouble (the session is kept).
   */
  refresh(): Promise<string | null> {
    if (this.inflight) return this.inflight;
    const tokenBefore = this.accessToken;
    this.inflight = this.opts
      .lock('organizer-refresh', async () => {
        // Another caller may have refreshed while we waited for the lock.
        if (this.accessToken && this.accessToken !== tokenBefore && !this.needsRefresh()) {
          return this.accessToken;
        }
        // Signed out meanwhile (here, or in another tab): the reason already shown stays.
        if (this.isSignedOut()) return null;
        const refreshToken = this.opts.store.get(); // re-read: another tab may have rotated it
        if (!refreshToken) {
          this.end(this.state.status === 'signed-in' ? SESSION_ENDED_MESSAGE : null, false);
          return null;
        }
        try {
          const pair = await this.opts.refresh(refreshToken);
          this.start(pair);
          return pair.accessToken;
        } catch (error) {
          if (error instanceof RefreshError && error.kind === 'unauthenticated') {
            // A sign-out while this refresh was on its way keeps its own reason ("You
            // signed out."), not "your session has ended".
            if (this.isSignedOut()) return null;
            // Only clear the store if nobody replaced the token meanwhile.
            const clearStore = this.opts.store.get() === refreshToken;
            this.end(SESSION_ENDED_MESSAGE, clearStore);
            return null;
          }
          throw error;
        }
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  /** Read afresh each time: a refresh awaits the network, and the state may change meanwhile. */
  private isSignedOut(): boolean {
    return this.state.status === 'signed-out';
  }

  /** Ends the session locally (the caller tells the server, see AuthContext). */
  signOut(reason: string | null = null): void {
    this.end(reason, true);
  }

  private end(reason: string | null, clearStore: boolean): void {
    if (clearStore) this.opts.store.clear();
    this.accessToken = null;
    this.expiresAt = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.setState({ status: 'signed-out', endedReason: reason });
  }

  private scheduleRefresh(): void {
    if (!this.opts.schedule) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(5_000, this.expiresAt - this.opts.marginMs - this.opts.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch(() => {
        // Offline: retry soon; requests also refresh on demand.
        this.timer = setTimeout(() => this.scheduleRefresh(), 15_000);
      });
    }, delay);
  }

  private setState(next: SessionState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
