import { describe, expect, it } from 'vitest';
import { describeSocketClose, isPlaceholder, placeholderProblem, shouldRetryClose, wsCredential } from './credentials';
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
