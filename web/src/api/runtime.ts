// The app's single instances: session, connectivity, urql client and WebSocket client.
import { Client, type Operation, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { SessionManager, type TabChannel, type TabMessage } from '../features/auth/session';
import { tokenStore } from '../features/auth/tokenStore';
import { browserLock } from '../features/auth/lock';
import { COOKIE_SESSION_HEADERS, httpRefresh } from '../features/auth/refresh';
import { Connectivity, probeGraphql } from './connectivity';
import { graphqlHttpUrl, graphqlWsUrl } from './endpoints';
import { resubscribeDelay, shouldRetrySocket } from './socketPolicy';
import { makeCacheExchange } from './cache';
import { answerExchange } from './answerExchange';
import { tabEchoExchange } from './tabEcho';

export const session = new SessionManager({
  store: tokenStore,
  refresh: httpRefresh(graphqlHttpUrl),
  lock: browserLock(),
  channel: tabChannel('organizer-session'),
});

/** Tabs of this origin, when the browser has BroadcastChannel. */
function tabChannel(name: string): TabChannel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel(name);
  return {
    post: (message) => channel.postMessage(message),
    listen: (handler) => channel.addEventListener('message', (event: MessageEvent<TabMessage>) => handler(event.data)),
  };
}

export const connectivity = new Connectivity(() => probeGraphql(graphqlHttpUrl()));

let ws: WsClient | null = null;
let refusals = 0;

function wsClient(): WsClient {
  if (ws) return ws;
  const client = createWsClient({
    url: graphqlWsUrl(),
    lazy: true,
    lazyCloseTimeout: 3_000,
    retryAttempts: Infinity,
    // The token is read at every (re)connect, so a refreshed token is used.
    connectionParams: async () => {
      const token = await session.freshAccessToken().catch(() => session.getAccessToken());
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    shouldRetry: (event) => {
      // Signed out: nothing to reconnect for, and no refresh to try.
      if (!session.hasSession()) return false;
      const decision = shouldRetrySocket(event, refusals);
      if (decision === 'refresh') {
        refusals++;
        void session.refresh().catch(() => undefined);
        return true;
      }
      return decision === 'retry';
    },
    on: {
      connected: () => {
        refusals = 0;
        connectivity.markUp('live');
      },
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        // 1000: closed on purpose (lazy close when nothing is subscribed).
        if (ws === client && code !== 1000 && code !== 4403) connectivity.markDown('live');
      },
    },
  });
  ws = client;
  return client;
}

/** Drops the socket (sign-out, new sign-in): the next subscription connects with the new token. */
export function resetLiveConnection(): void {
  const old = ws;
  ws = null;
  refusals = 0;
  // dispose() waits for a connection under way; one that fails (the server closed it, e.g.
  // on sign-out) rejects with its CloseEvent: nothing to report, the socket is gone.
  if (old) void Promise.resolve(old.dispose()).catch(() => undefined);
  connectivity.markUp('live');
}

const AUTH_FIELDS = new Set(['login', 'signup', 'refreshToken', 'logout']);

/** login/signup/refreshToken/logout: sent without a token and never retried after a refresh. */
function isAuthMutation(operation: Operation): boolean {
  if (operation.kind !== 'mutation') return false;
  return operation.query.definitions.some(
    (d) =>
      d.kind === 'OperationDefinition' &&
      d.selectionSet.selections.some((s) => s.kind === 'Field' && AUTH_FIELDS.has(s.name.value)),
  );
}

/** A fresh client (and so a fresh normalized cache) for each signed-in session. */
export function makeUrqlClient(): Client {
  return new Client({
  url: '/graphql',
  // Sign-up, login and logout set or clear the session cookie (refreshes go by refresh.ts).
  fetchOptions: { credentials: 'same-origin', headers: { ...COOKIE_SESSION_HEADERS } },
  preferGetMethod: false,
  requestPolicy: 'cache-and-network',
  exchanges: [
    makeCacheExchange(),
    // Below the cache, so that changes answered locally (uploads, other tabs) pass its updates.
    tabEchoExchange,
    answerExchange,
    mapExchange({
      onResult(result) {
        if (result.error?.networkError) connectivity.markDown('http');
        else connectivity.markUp('http');
        return result;
      },
    }),
    authExchange(async (utils) => ({
      addAuthToOperation(operation) {
        const token = session.getAccessToken();
        return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
      },
      willAuthError(operation) {
        if (operation.kind === 'teardown' || !session.hasSession()) return false;
        return session.needsRefresh() && !isAuthMutation(operation);
      },
      didAuthError(error, operation) {
        // Retry once after a refresh; never for login/signup (a wrong password is UNAUTHENTICATED too).
        if (!session.hasSession()) return false;
        if (isAuthMutation(operation)) return false;
        return error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
      },
      async refreshAuth() {
        await session.refresh().catch(() => undefined);
      },
    })),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || '' };
        return {
          subscribe(sink) {
            let stopped = false;
            let dispose = () => {};
            let again: ReturnType<typeof setTimeout> | undefined;
            const start = (attempt: number) => {
              dispose = wsClient().subscribe(input, {
                next: (value) => {
                  attempt = 0;
                  sink.next(value as Parameters<typeof sink.next>[0]);
                },
                complete: () => sink.complete(),
                error: (error) => {
                  const wait = stopped ? null : resubscribeDelay(error, attempt);
                  if (wait === null) sink.error(error);
                  else again = setTimeout(() => start(attempt + 1), wait);
                },
              });
            };
            start(0);
            return {
              unsubscribe: () => {
                stopped = true;
                clearTimeout(again);
                dispose();
              },
            };
          },
        };
      },
    }),
  ],
});
}
