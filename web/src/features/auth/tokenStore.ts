// Where the app remembers that it has a session. The refresh token itself lives in an
// HttpOnly cookie scripts cannot read (the server sets it for requests that send
// `X-Organizer-Session: cookie`); what is kept here is only a marker that a session
// exists, so a reload knows to refresh and other tabs see a sign-out (the `storage`
// event). A refresh token left in storage by an older version of the app is traded
// once for the cookie, then removed. The access token is never stored: it lives in
// memory (see session.ts).

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const SESSION_KEY = 'organizer.session';
/** Where older versions kept the refresh token itself. */
export const LEGACY_TOKEN_KEY = 'organizer.refreshToken';
/** Markers start with this; anything else in the store is a (legacy) refresh token. */
export const COOKIE_MARKER = 'cookie:';

function defaultStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled (e.g. some private modes)
  }
}

export interface TokenStore {
  /** The session's marker (or a legacy refresh token); null when signed out. */
  get(): string | null;
  /** After a sign-in or refresh: `refreshToken` as the server answered it. */
  set(refreshToken: string): void;
  clear(): void;
  /** Calls `listener` when another tab changes or removes the session. */
  onExternalChange(listener: (token: string | null) => void): () => void;
}

/** Whether a stored value is a cookie session's marker (not a token to present). */
export function isCookieMarker(value: string): boolean {
  return value.startsWith(COOKIE_MARKER);
}

export function createTokenStore(storage: KeyValueStorage | null = defaultStorage()): TokenStore {
  let memory: string | null = null; // fallback when storage is unavailable
  const read = (key: string) => {
    try {
      return storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  };
  const remove = (key: string) => {
    try {
      storage?.removeItem(key);
    } catch {
      /* nothing stored */
    }
  };
  return {
    get() {
      return read(SESSION_KEY) ?? read(LEGACY_TOKEN_KEY) ?? memory;
    },
    set(refreshToken) {
      // An empty answer means the token went into the cookie: keep a fresh marker (each
      // rotation changes it, so a tab can tell whether another one refreshed meanwhile).
      const value = refreshToken === '' ? `${COOKIE_MARKER}${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}` : refreshToken;
      memory = value;
      remove(LEGACY_TOKEN_KEY);
      try {
        storage?.setItem(SESSION_KEY, value);
      } catch {
        /* memory only */
      }
    },
    clear() {
      memory = null;
      remove(SESSION_KEY);
      remove(LEGACY_TOKEN_KEY);
    },
    onExternalChange(listener) {
      if (typeof window === 'undefined') return () => {};
      const handler = (event: StorageEvent) => {
        if (event.key === SESSION_KEY || event.key === null) listener(event.newValue);
      };
      window.addEventListener('storage', handler);
      return () => window.removeEventListener('storage', handler);
    },
  };
}

export const tokenStore: TokenStore = createTokenStore();
