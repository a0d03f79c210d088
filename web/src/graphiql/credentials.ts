// Pure helpers of the GraphiQL fetcher (unit-tested).

export type Headers = Record<string, unknown>;

function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : headers[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The credential for `connection_init`: Authorization as typed, or `Bearer <X-API-Key>`. */
export function wsCredential(headers: Headers | undefined): string | null {
  const authorization = header(headers, 'Authorization');
  if (authorization) return authorization;
  const apiKey = header(headers, 'X-API-Key');
  if (apiKey) return `Bearer ${apiKey}`;
  return null;
}

/** A header value that is still an example, e.g. "Bearer <accessToken>" or "Bearer …". */
export function isPlaceholder(value: string): boolean {
  return /[<>]|…|\.\.\.|your[ _-]?(token|key)|^bearer\s*$/i.test(value);
}

/** An explanation when a credential header still holds a placeholder; null when fine. */
export function placeholderProblem(headers: Headers | undefined): string | null {
  for (const name of ['Authorization', 'X-API-Key']) {
    const value = header(headers, name);
    if (value && isPlaceholder(value)) {
      return `The ${name} header still holds a placeholder ("${value}"). Replace it with a real ${
        name === 'Authorization' ? 'access token: "Bearer <the accessToken from signup or login>"' : 'API key'
      }, or remove the header.`;
    }
  }
  return null;
}

/** A sentence for why the socket closed before or during a subscription. */
export function describeSocketClose(event: unknown): { message: string; code: string; closeCode?: number } {
  const code = event && typeof event === 'object' && 'code' in event ? Number((event as { code: unknown }).code) : undefined;
  const reason = event && typeof event === 'object' && 'reason' in event ? String((event as { reason: unknown }).reason ?? '') : '';
  if (code === 4403 || code === 4401) {
    return {
      message:
        'The server refused the credentials sent in connection_init (closed with 4403 Forbidden). Check the Authorization or X-API-Key header: the token may be expired, revoked or mistyped.',
      code: 'UNAUTHENTICATED',
      closeCode: code,
    };
  }
  if (code === 4408) return { message: 'The server closed the socket: connection_init timed out.', code: 'TIMEOUT', closeCode: code };
  if (code === 4429) return { message: 'Too many subscription connections; wait a moment and try again.', code: 'RATE_LIMITED', closeCode: code };
  if (code !== undefined && !Number.isNaN(code)) {
    return {
      message: `The subscription socket closed (code ${code}${reason ? `: ${reason}` : ''}).`,
      code: 'SOCKET_CLOSED',
      closeCode: code,
    };
  }
  if (event instanceof Error) return { message: event.message, code: 'SOCKET_ERROR' };
  if (Array.isArray(event)) {
    const first = event[0] as { message?: string } | undefined;
    return { message: first?.message ?? 'The subscription failed.', code: 'SUBSCRIPTION_ERROR' };
  }
  return { message: 'The subscription socket could not connect to /graphql/ws.', code: 'SOCKET_ERROR' };
}

/** Never retry a refused credential (4401/4403) or a protocol error; retry network drops a few times. */
export function shouldRetryClose(event: unknown): boolean {
  const code = event && typeof event === 'object' && 'code' in event ? Number((event as { code: unknown }).code) : undefined;
  if (code === undefined) return true;
  return !(code >= 4400 && code < 4500) && code !== 1002 && code !== 1008;
}

// ---- Where GraphiQL keeps its state ------------------------------------------------------
//
// GraphiQL saves its tabs, its query history (each entry with the headers it ran with) and,
// when asked to, the Headers tab in the `storage` it is given, localStorage by default:
// a token typed there would stay on the disk after the browser closes. Here it gets a
// storage kept in the browser tab's sessionStorage (gone when the tab closes), never
// localStorage, and the page clears what older versions left in localStorage.

/** The Web Storage calls used here (localStorage and sessionStorage have them). */
export interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key(index: number): string | null;
  readonly length: number;
}

/** What GraphiQL's `storage` prop needs (`Storage` of @graphiql/toolkit). */
export interface GraphiQLStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  clear(): void;
  readonly length: number;
}

/** GraphiQL prefixes every key it stores with this. */
export const GRAPHIQL_KEY_PREFIX = 'graphiql:';

function graphiqlKeys(store: WebStorage): string[] {
  const keys: string[] = [];
  for (let i = 0; i < store.length; i++) {
    const key = store.key(i);
    if (key !== null && key.startsWith(GRAPHIQL_KEY_PREFIX)) keys.push(key);
  }
  return keys;
}

/** A WebStorage in memory: for tests, and for browsers where sessionStorage is unavailable. */
export function memoryWebStorage(): WebStorage {
  const data = new Map<string, string>();
  return {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, String(value)),
    removeItem: (key) => void data.delete(key),
    key: (index) => [...data.keys()][index] ?? null,
    get length() {
      return data.size;
    },
  };
}

/**
 * GraphiQL's storage, kept in `session` (the tab's sessionStorage), or in memory when that
 * is unavailable: never in localStorage. Like GraphiQL's default, `length` and `clear()`
 * (its "Clear data" button) concern only GraphiQL's own keys.
 */
export function tabOnlyStorage(session: WebStorage | null): GraphiQLStorage {
  const store = session ?? memoryWebStorage();
  return {
    getItem: (key) => store.getItem(key),
    setItem: (key, value) => store.setItem(key, value),
    removeItem: (key) => store.removeItem(key),
    clear: () => graphiqlKeys(store).forEach((key) => store.removeItem(key)),
    get length() {
      return graphiqlKeys(store).length;
    },
  };
}

/**
 * Removes every GraphiQL key from `local` (localStorage): `graphiql:headers`, and the tabs
 * and query history, which held the Authorization and X-API-Key headers as typed. Nothing
 * reads them any more. Returns the keys removed; never throws (storage may be disabled).
 */
export function forgetSavedGraphiQLState(local: WebStorage | null): string[] {
  if (!local) return [];
  try {
    const keys = graphiqlKeys(local);
    keys.forEach((key) => local.removeItem(key));
    return keys;
  } catch {
    return [];
  }
}

/** `window.sessionStorage` or `window.localStorage`, or null where the browser refuses it. */
export function browserStorage(name: 'sessionStorage' | 'localStorage'): WebStorage | null {
  try {
    return typeof window === 'undefined' ? null : window[name];
  } catch {
    return null; // e.g. storage disabled: reading the property throws a SecurityError
  }
}
