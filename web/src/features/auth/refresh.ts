// The refreshToken mutation, sent with plain fetch (outside urql, so it never waits
// on the auth exchange that calls it). The token is the session cookie's: only a legacy
// token from an older version's storage is sent in the body (once, to get the cookie).
import { stringifyDocument } from 'urql';
import { RefreshTokenMutation } from './documents';
import { RefreshError, type TokenPair } from './session';
import { isCookieMarker } from './tokenStore';

/** Sent with every GraphQL request: the session's refresh token lives in the cookie. */
export const COOKIE_SESSION_HEADERS = { 'X-Organizer-Session': 'cookie' } as const;

interface RefreshResponse {
  data?: { refreshToken?: TokenPair | null } | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

const REFRESH_QUERY = stringifyDocument(RefreshTokenMutation);

export function interpretRefreshResponse(body: RefreshResponse): TokenPair {
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') {
      throw new RefreshError('unauthenticated', error.message);
    }
    if (code === 'RATE_LIMITED') {
      const seconds = Math.max(1, Math.round(Number(error.extensions?.retryAfter) || 5));
      throw new RefreshError('limited', `Too many requests right now. Try again in ${seconds} s.`, seconds);
    }
    throw new RefreshError('other', error.message);
  }
  const pair = body.data?.refreshToken;
  if (!pair) throw new RefreshError('other', 'The server sent no tokens.');
  return pair;
}

export function httpRefresh(url: () => string) {
  return async (stored: string): Promise<TokenPair> => {
    const variables = isCookieMarker(stored) ? {} : { refreshToken: stored };
    let res: Response;
    try {
      res = await fetch(url(), {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/graphql-response+json, application/json',
          ...COOKIE_SESSION_HEADERS,
        },
        body: JSON.stringify({ query: REFRESH_QUERY, variables, operationName: 'RefreshToken' }),
      });
    } catch {
      throw new RefreshError('network', 'The server cannot be reached.');
    }
    let body: RefreshResponse;
    try {
      body = (await res.json()) as RefreshResponse;
    } catch {
      throw new RefreshError('network', `The server answered ${res.status}.`);
    }
    return interpretRefreshResponse(body);
  };
}
