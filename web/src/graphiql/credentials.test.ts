import { describe, expect, it } from 'vitest';
import {
  describeSocketClose,
  forgetSavedGraphiQLState,
  isPlaceholder,
  memoryWebStorage,
  placeholderProblem,
  shouldRetryClose,
  tabOnlyStorage,
  wsCredential,
  type WebStorage,
} from './credentials';
import { operationType, reconcileOperationName } from './fetcher';

describe('GraphiQL credentials', () => {
  it('uses Authorization as typed, any case', () => {
    expect(wsCredential({ authorization: 'Bearer abc' })).toBe('Bearer abc');
  });
  it('turns X-API-Key into a bearer credential', () => {
    expect(wsCredential({ 'X-API-Key': 'org_123' })).toBe('Bearer org_123');
    expect(wsCredential({ 'x-api-key': ' org_123 ' })).toBe('Bearer org_123');
  });
  it('prefers Authorization and sends nothing without either', () => {
    expect(wsCredential({ Authorization: 'Bearer a', 'X-API-Key': 'k' })).toBe('Bearer a');
    expect(wsCredential({})).toBeNull();
    expect(wsCredential(undefined)).toBeNull();
  });
  it('spots placeholders', () => {
    expect(isPlaceholder('Bearer <accessToken from signup or login>')).toBe(true);
    expect(isPlaceholder('Bearer …')).toBe(true);
    expect(isPlaceholder('Bearer ')).toBe(true);
    expect(isPlaceholder('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig')).toBe(false);
    expect(placeholderProblem({ Authorization: 'Bearer <token>' })).toMatch(/placeholder/);
    expect(placeholderProblem({ Authorization: 'Bearer real' })).toBeNull();
  });
  it('explains a refused credential and never retries it', () => {
    expect(describeSocketClose({ code: 4403, reason: 'Forbidden' })).toMatchObject({ code: 'UNAUTHENTICATED', closeCode: 4403 });
    expect(shouldRetryClose({ code: 4403 })).toBe(false);
    expect(shouldRetryClose({ code: 1006 })).toBe(true);
  });
  it('finds the operation type', () => {
    expect(operationType({ query: 'subscription S { operationEvents { status } }' })).toBe('subscription');
    expect(operationType({ query: 'query A { me { id } } subscription B { operationEvents { status } }', operationName: 'B' })).toBe('subscription');
    expect(operationType({ query: '{ me { id } }' })).toBe('query');
    expect(operationType({ query: 'not graphql' })).toBeNull();
  });
  it('drops an operation name the query no longer defines', () => {
    expect(reconcileOperationName({ query: '{ me { id } }', operationName: 'Me' }).operationName).toBeNull();
    expect(reconcileOperationName({ query: 'query Other { me { id } }', operationName: 'Me' }).operationName).toBe('Other');
    expect(reconcileOperationName({ query: 'query A { me { id } } query B { me { id } }', operationName: 'B' }).operationName).toBe('B');
    expect(reconcileOperationName({ query: 'query A { me { id } } query B { me { id } }', operationName: 'C' }).operationName).toBe('C');
  });
});

/** A stand-in for localStorage or sessionStorage, as an old version of the page left it. */
function storageWith(entries: Record<string, string>): WebStorage {
  const store = memoryWebStorage();
  for (const [key, value] of Object.entries(entries)) store.setItem(key, value);
  return store;
}

function contents(store: WebStorage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < store.length; i++) {
    const key = store.key(i)!;
    out[key] = store.getItem(key)!;
  }
  return out;
}

describe('GraphiQL storage', () => {
  const token = '{"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.secret"}';

  it('forgets what older versions saved in localStorage, credentials included', () => {
    const local = storageWith({
      'graphiql:headers': token,
      'graphiql:tabState': JSON.stringify({ tabs: [{ query: '{ me { id } }', headers: token }], activeTabIndex: 0 }),
      'graphiql:queries': JSON.stringify({ queries: [{ query: '{ me { id } }', headers: token }] }),
      'graphiql:shouldPersistHeaders': 'true',
      'organizer.refreshToken': 'rt-1', // the app's own key stays
    });
    expect(forgetSavedGraphiQLState(local).sort()).toEqual([
      'graphiql:headers',
      'graphiql:queries',
      'graphiql:shouldPersistHeaders',
      'graphiql:tabState',
    ]);
    expect(contents(local)).toEqual({ 'organizer.refreshToken': 'rt-1' });
    expect(JSON.stringify(contents(local))).not.toContain('Bearer');
    // Nothing left: a second load removes nothing.
    expect(forgetSavedGraphiQLState(local)).toEqual([]);
  });

  it('never throws when localStorage is missing or refuses access', () => {
    expect(forgetSavedGraphiQLState(null)).toEqual([]);
    const refusing: WebStorage = {
      getItem: () => null,
      setItem: () => undefined,
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      key: () => 'graphiql:headers',
      length: 1,
    };
    expect(forgetSavedGraphiQLState(refusing)).toEqual([]);
  });

  it('keeps GraphiQL state in sessionStorage, never in localStorage', () => {
    const local = storageWith({ 'organizer.refreshToken': 'rt-1' });
    const session = storageWith({ 'organizer.other': 'x' });
    const storage = tabOnlyStorage(session);
    storage.setItem('graphiql:headers', token);
    storage.setItem('graphiql:tabState', '{"tabs":[]}');
    expect(storage.getItem('graphiql:headers')).toBe(token);
    expect(session.getItem('graphiql:headers')).toBe(token);
    expect(contents(local)).toEqual({ 'organizer.refreshToken': 'rt-1' });
    // Like GraphiQL's default: length and clear() (its "Clear data") see its own keys only.
    expect(storage.length).toBe(2);
    storage.removeItem('graphiql:tabState');
    expect(storage.length).toBe(1);
    storage.clear();
    expect(storage.length).toBe(0);
    expect(contents(session)).toEqual({ 'organizer.other': 'x' });
  });

  it('keeps GraphiQL state in memory when sessionStorage is unavailable', () => {
    const storage = tabOnlyStorage(null);
    expect(storage.getItem('graphiql:headers')).toBeNull();
    storage.setItem('graphiql:headers', token);
    expect(storage.getItem('graphiql:headers')).toBe(token);
    expect(storage.length).toBe(1);
    storage.clear();
    expect(storage.getItem('graphiql:headers')).toBeNull();
  });
});
