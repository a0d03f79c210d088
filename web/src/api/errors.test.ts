import { describe, expect, it } from 'vitest';
import { describeErrors, describeGraphQLError, fieldErrors, otherErrors } from './errors';
import { resubscribeDelay, shouldRetrySocket } from './socketPolicy';

const err = (code: string, extra: Record<string, unknown> = {}, message = 'server says no') => ({
  message,
  extensions: { code, ...extra },
});

describe('error messages', () => {
  it('gives every code a message and a next step', () => {
    for (const code of ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'INTERNAL_SERVER_ERROR']) {
      const f = describeGraphQLError(err(code));
      expect(f.code).toBe(code);
      expect(f.message.length).toBeGreaterThan(5);
      expect(f.nextStep.length).toBeGreaterThan(5);
    }
  });
  it('names the field of BAD_USER_INPUT', () => {
    const f = describeGraphQLError(err('BAD_USER_INPUT', { field: 'password' }, 'password must be at least 8 characters'));
    expect(f.field).toBe('password');
    expect(f.message).toBe('Password must be at least 8 characters');
    expect(f.nextStep).toBe('Correct the password and try again.');
    expect(fieldErrors([f])).toEqual({ password: 'Password must be at least 8 characters' });
    expect(otherErrors([f], ['password'])).toEqual([]);
    expect(otherErrors([f], ['email'])).toEqual([f]);
  });
  it('says when to retry after RATE_LIMITED', () => {
    expect(describeGraphQLError(err('RATE_LIMITED', { retryAfter: 42 })).nextStep).toBe('Try again in 42 seconds.');
    expect(describeGraphQLError(err('RATE_LIMITED', { retryAfter: 1 })).nextStep).toBe('Try again in 1 second.');
  });
  it('quotes the request id of an internal error and nothing else', () => {
    const f = describeGraphQLError(err('INTERNAL_SERVER_ERROR', { requestId: 'req-7' }, 'internal error'));
    expect(f.requestId).toBe('req-7');
    expect(f.nextStep).toContain('req-7');
  });
  it('words UNAUTHENTICATED on the sign-in form as wrong credentials', () => {
    expect(describeGraphQLError(err('UNAUTHENTICATED'), 'login').message).toMatch(/do not match/);
  });
  it('explains QUOTA_EXCEEDED with the way out', () => {
    const f = describeGraphQLError(err('QUOTA_EXCEEDED', {}, 'The upload needs 3 MB more than the 1 GB quota'));
    expect(f.message).toMatch(/^Your storage is full: the upload needs/);
    expect(f.nextStep).toMatch(/purge/);
  });
  it('tells a full server apart from a full quota', () => {
    const f = describeGraphQLError(err('INSUFFICIENT_STORAGE', {}, 'the server has no storage space left'));
    expect(f.code).toBe('INSUFFICIENT_STORAGE');
    expect(f.message).toMatch(/server is out of storage/);
  });
  it('maps a network failure and unknown codes', () => {
    expect(describeErrors({ networkError: new Error('Failed to fetch') })[0].code).toBe('NETWORK');
    expect(describeErrors({ graphQLErrors: [{ message: 'odd' }] })[0]).toMatchObject({ code: 'UNKNOWN', message: 'Odd' });
    expect(describeErrors(null)).toEqual([]);
  });
  it('deduplicates repeated errors', () => {
    expect(describeErrors({ graphQLErrors: [err('NOT_FOUND'), err('NOT_FOUND')] })).toHaveLength(1);
  });
});

describe('socket retry policy', () => {
  it('refreshes the token on 4403 at most twice, then stops', () => {
    expect(shouldRetrySocket({ code: 4403 }, 0)).toBe('refresh');
    expect(shouldRetrySocket({ code: 4403 }, 1)).toBe('refresh');
    expect(shouldRetrySocket({ code: 4403 }, 2)).toBe('stop');
  });
  it('retries network drops and stops on protocol errors', () => {
    expect(shouldRetrySocket({ code: 1006 }, 0)).toBe('retry');
    expect(shouldRetrySocket(new Event('error'), 0)).toBe('retry');
    expect(shouldRetrySocket({ code: 4400 }, 0)).toBe('stop');
  });

  it('starts subscriptions again after a 4429 close, waiting longer each time, at most about a minute', () => {
    expect(resubscribeDelay({ code: 4429 }, 0, () => 0.5)).toBe(5_000);
    expect(resubscribeDelay({ code: 4429 }, 1, () => 0.5)).toBe(10_000);
    expect(resubscribeDelay({ code: 4429 }, 10, () => 0.5)).toBe(60_000);
    expect(resubscribeDelay({ code: 4429 }, 0, () => 0)).toBe(3_750);
    expect(resubscribeDelay({ code: 1006 }, 0)).toBeNull();
    expect(resubscribeDelay(new Event('error'), 0)).toBeNull();
  });
});
