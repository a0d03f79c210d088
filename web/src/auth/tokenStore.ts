// The ONE place the refresh token is kept. Today: localStorage (so a session
// survives reloads and is shared by tabs). To move to an httpOnly cookie later,
// change only this module: the server would set the cookie on signup/login/
// refreshToken, `get()` would return a marker, and `set()`/`clear()` would become
// no-ops or a logout call. The access token is never stored: it lives in memory
// (see session.ts).

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const REFRESH_TOKEN_KEY = 'organizer.refreshToken';

function defaultStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled (e.g. some private modes)
  }
}

export interface TokenStore {
  get(): string | null;
  set(refreshToken: string): void;
  clear(): void;
  /** Calls `listener` when another tab changes or removes the token. */
  onExternalChange(listener: (token: string | null) => void): () => void;
}

export function createTokenStore(storage: KeyValueStorage | null = defaultStorage()): TokenStore {
  let memory: string | null = null; // fallback when storage is unavailable
  return {
    get() {
      if (!storage) return memory;
      try {
        return storage.getItem(REFRESH_TOKEN_KEY);
      } catch {
        return memory;
      }
    },
    set(refreshToken) {
      memory = refreshToken;
      try {
        storage?.setItem(REFRESH_TOKEN_KEY, refreshToken);
      } catch {
        /* memory only */
      }
    },
    clear() {
      memory = null;
      try {
        storage?.removeItem(REFRESH_TOKEN_KEY);
      } catch {
        /* nothing stored */
      }
    },
    onExternalChange(listener) {
      if (typeof window === 'undefined') return () => {};
      const handler = (event: StorageEvent) => {
        if (event.key === REFRESH_TOKEN_KEY || event.key === null) listener(event.newValue);
      };
      window.addEventListener('storage', handler);
      return () => window.removeEventListener('storage', handler);
    },
  };
}

export const tokenStore: TokenStore = createTokenStore();
