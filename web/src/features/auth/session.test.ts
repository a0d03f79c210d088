import { describe, expect, it, vi } from 'vitest';
import { createTokenStore, type KeyValueStorage } from './tokenStore';
import { inTabLock, type LockRunner } from './lock';
import { RefreshError, SESSION_ENDED_MESSAGE, SessionManager, type TabChannel, type TabMessage, type TokenPair } from './session';
import { httpRefresh, interpretRefreshResponse } from './refresh';

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

/** A fake server: each refresh token works once; reuse revokes the family. */
function fakeServer() {
  let n = 0;
  const valid = new Set<string>(['rt-0']);
  let revoked = false;
  const calls: string[] = [];
  const refresh = vi.fn(async (token: string): Promise<TokenPair> => {
    calls.push(token);
    await new Promise((r) => setTimeout(r, 5));
    if (revoked || !valid.has(token)) {
      revoked = true;
      throw new RefreshError('unauthenticated', 'refresh token reused');
    }
    valid.delete(token);
    n++;
    valid.add(`rt-${n}`);
    return { accessToken: `at-${n}`, refreshToken: `rt-${n}`, expiresIn: 1800 };
  });
  return { refresh, calls, isRevoked: () => revoked };
}

function manager(storage: KeyValueStorage, refresh: (t: string) => Promise<TokenPair>, lock: LockRunner = inTabLock, now = () => 1_000_000) {
  return new SessionManager({ store: createTokenStore(storage), refresh, lock, now, schedule: false });
}

describe('SessionManager', () => {
  it('starts unknown with a stored refresh token and signed out without one', () => {
    const storage = memoryStorage();
    expect(manager(storage, vi.fn()).getState().status).toBe('signed-out');
    storage.setItem('organizer.refreshToken', 'rt-0');
    expect(manager(storage, vi.fn()).getState().status).toBe('unknown');
  });

  it('keeps the access token in memory only and stores the refresh token', () => {
    const storage = memoryStorage();
    const s = manager(storage, vi.fn());
    s.start({ accessToken: 'at', refreshToken: 'rt', expiresIn: 1800 });
    expect(s.getAccessToken()).toBe('at');
    expect([...storage.data.values()]).toEqual(['rt']);
  });

  it('deduplicates concurrent refreshes within a tab', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.refreshToken', 'rt-0');
    const server = fakeServer();
    const s = manager(storage, server.refresh);
    const [a, b, c] = await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect(a).toBe('at-1');
    expect(b).toBe('at-1');
    expect(c).toBe('at-1');
    expect(server.refresh).toHaveBeenCalledTimes(1);
    expect(storage.getItem('organizer.session')).toBe('rt-1');
    expect(storage.getItem('organizer.refreshToken')).toBeNull();
  });

  it('serializes refreshes across tabs and re-reads the rotated token', async () => {
    const storage = memoryStorage(); // shared, like localStorage
    storage.setItem('organizer.refreshToken', 'rt-0');
    const server = fakeServer();
    const tabA = manager(storage, server.refresh, inTabLock);
    const tabB = manager(storage, server.refresh, inTabLock);
    const [a, b] = await Promise.all([tabA.refresh(), tabB.refresh()]);
    expect(server.calls).toEqual(['rt-0', 'rt-1']); // never the same token twice
    expect(server.isRevoked()).toBe(false);
    expect(new Set([a, b])).toEqual(new Set(['at-1', 'at-2']));
    expect(tabA.getState().status).toBe('signed-in');
    expect(tabB.getState().status).toBe('signed-in');
  });

  it('without a lock two tabs would reuse a token (what the lock prevents)', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.refreshToken', 'rt-0');
    const server = fakeServer();
    const noLock: LockRunner = (_n, task) => task();
    await Promise.all([manager(storage, server.refresh, noLock).refresh(), manager(storage, server.refresh, noLock).refresh()]);
    expect(server.isRevoked()).toBe(true);
  });

  it('signs out with a message when the refresh is refused', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.refreshToken', 'stale');
    const server = fakeServer();
    const s = manager(storage, server.refresh);
    s.start({ accessToken: 'at', refreshToken: 'stale', expiresIn: 1800 });
    expect(await s.refresh()).toBeNull();
    expect(s.getState()).toEqual({ status: 'signed-out', endedReason: SESSION_ENDED_MESSAGE });
    expect(storage.getItem('organizer.refreshToken')).toBeNull();
    expect(s.getAccessToken()).toBeNull();
  });

  it('keeps the session when the server cannot be reached', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.refreshToken', 'rt-0');
    const s = manager(storage, async () => {
      throw new RefreshError('network', 'offline');
    });
    await expect(s.refresh()).rejects.toThrow('offline');
    expect(storage.getItem('organizer.refreshToken')).toBe('rt-0');
    expect(s.getState().status).toBe('unknown');
  });

  it('refreshes ahead of expiry (60 s margin)', async () => {
    let now = 0;
    const storage = memoryStorage();
    const server = fakeServer();
    const s = manager(storage, server.refresh, inTabLock, () => now);
    s.start({ accessToken: 'at-0', refreshToken: 'rt-0', expiresIn: 1800 });
    expect(s.needsRefresh()).toBe(false);
    expect(await s.freshAccessToken()).toBe('at-0');
    now = (1800 - 59) * 1000;
    expect(s.needsRefresh()).toBe(true);
    expect(await s.freshAccessToken()).toBe('at-1');
  });

  it('schedules a refresh before the token expires', async () => {
    vi.useFakeTimers();
    try {
      const storage = memoryStorage();
      const server = fakeServer();
      const s = new SessionManager({ store: createTokenStore(storage), refresh: server.refresh, lock: inTabLock });
      s.start({ accessToken: 'at-0', refreshToken: 'rt-0', expiresIn: 1800 });
      await vi.advanceTimersByTimeAsync(1739_000);
      expect(server.refresh).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(2_000);
      await vi.advanceTimersByTimeAsync(10);
      expect(server.refresh).toHaveBeenCalledWith('rt-0');
      expect(s.getAccessToken()).toBe('at-1');
      s.signOut();
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends when another tab signs out', () => {
    const storage = memoryStorage();
    const listeners: ((t: string | null) => void)[] = [];
    const store = { ...createTokenStore(storage), onExternalChange: (l: (t: string | null) => void) => (listeners.push(l), () => {}) };
    const s = new SessionManager({ store, refresh: vi.fn(), lock: inTabLock, schedule: false });
    s.start({ accessToken: 'a', refreshToken: 'r', expiresIn: 1800 });
    listeners.forEach((l) => l(null));
    expect(s.getState().status).toBe('signed-out');
  });
});

describe('interpretRefreshResponse', () => {
  it('maps UNAUTHENTICATED to a session end', () => {
    expect(() => interpretRefreshResponse({ errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] })).toThrow(
      expect.objectContaining({ kind: 'unauthenticated' }),
    );
  });
  it('maps RATE_LIMITED to a wait, not a lost connection', () => {
    expect(() => interpretRefreshResponse({ errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', retryAfter: 42 } }] })).toThrow(
      expect.objectContaining({ kind: 'limited', retryAfter: 42, message: 'Too many requests right now. Try again in 42 s.' }),
    );
  });
  it('maps other errors to retryable ones', () => {
    expect(() => interpretRefreshResponse({ errors: [{ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] })).toThrow(
      expect.objectContaining({ kind: 'other' }),
    );
  });
  it('returns the pair', () => {
    const pair = { accessToken: 'a', refreshToken: 'r', expiresIn: 1800 };
    expect(interpretRefreshResponse({ data: { refreshToken: pair } })).toEqual(pair);
  });
});

describe('the cookie session', () => {
  it('keeps a fresh marker, never a token, when the token went into the cookie', () => {
    const storage = memoryStorage();
    storage.setItem('organizer.refreshToken', 'legacy-token');
    const store = createTokenStore(storage);
    expect(store.get()).toBe('legacy-token');
    store.set('');
    const first = store.get();
    expect(first).toMatch(/^cookie:/);
    expect(storage.getItem('organizer.refreshToken')).toBeNull();
    store.set('');
    expect(store.get()).not.toBe(first);
    store.clear();
    expect(store.get()).toBeNull();
  });

  it('refreshes from the cookie with the opt-in header, a legacy token once in the body', async () => {
    const bodies: unknown[] = [];
    const headers: Record<string, string>[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(String(init.body)));
      headers.push(init.headers as Record<string, string>);
      expect(init.credentials).toBe('same-origin');
      return new Response(JSON.stringify({ data: { refreshToken: { accessToken: 'a', refreshToken: '', expiresIn: 1800 } } }));
    });
    try {
      const refresh = httpRefresh(() => '/graphql');
      await refresh('cookie:abc');
      await refresh('legacy-token');
      expect(bodies.map((b) => (b as { variables: unknown }).variables)).toEqual([{}, { refreshToken: 'legacy-token' }]);
      expect(headers.every((h) => h['X-Organizer-Session'] === 'cookie')).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('signing out while a refresh is on its way', () => {
  it('keeps the sign-out reason, not "your session has ended"', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.session', 'rt-0');
    let answer: (e: Error) => void = () => {};
    const refresh = vi.fn(() => new Promise<TokenPair>((_, reject) => (answer = reject)));
    const s = manager(storage, refresh);
    s.start({ accessToken: 'at', refreshToken: 'rt-0', expiresIn: 1800 });
    const pending = s.refresh();
    await new Promise((r) => setTimeout(r, 0));
    s.signOut('You signed out.');
    answer(new RefreshError('unauthenticated', 'revoked'));
    expect(await pending).toBeNull();
    expect(s.getState()).toEqual({ status: 'signed-out', endedReason: 'You signed out.' });
    expect(await s.refresh()).toBeNull();
    expect(s.getState().endedReason).toBe('You signed out.');
  });
});

/** Tabs on one origin: each message reaches every other tab (as BroadcastChannel does). */
function tabHub() {
  const handlers: { id: number; handler: (m: TabMessage) => void }[] = [];
  let next = 0;
  return () => {
    const id = next++;
    const channel: TabChannel = {
      post: (message) => setTimeout(() => handlers.filter((h) => h.id !== id).forEach((h) => h.handler(message)), 0),
      listen: (handler) => void handlers.push({ id, handler }),
    };
    return channel;
  };
}

describe('tabs share the access token', () => {
  it('a reload takes an open tab’s token instead of refreshing, and one refresh serves every tab', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.session', 'rt-0');
    const server = fakeServer();
    const tab = tabHub();
    const make = () => new SessionManager({ store: createTokenStore(storage), refresh: server.refresh, lock: inTabLock, schedule: false, channel: tab() });
    const first = make();
    expect(await first.restore()).toBe('at-1');
    expect(server.refresh).toHaveBeenCalledTimes(1);
    // A second tab opens (or the page reloads while another tab is open): no refresh.
    const second = make();
    expect(await second.restore()).toBe('at-1');
    expect(second.getState().status).toBe('signed-in');
    expect(server.refresh).toHaveBeenCalledTimes(1);
    // When one tab refreshes, the other takes the new token.
    expect(await first.refresh()).toBe('at-2');
    await new Promise((r) => setTimeout(r, 5));
    expect(second.getAccessToken()).toBe('at-2');
    expect(server.refresh).toHaveBeenCalledTimes(2);
  });

  it('with no other tab, restoring refreshes', async () => {
    const storage = memoryStorage();
    storage.setItem('organizer.session', 'rt-0');
    const server = fakeServer();
    const s = new SessionManager({ store: createTokenStore(storage), refresh: server.refresh, lock: inTabLock, schedule: false, channel: tabHub()() });
    expect(await s.restore()).toBe('at-1');
  });
});
