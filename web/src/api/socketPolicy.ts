// When the live-updates socket closes: retry, refresh the token then retry, or stop.

export type SocketDecision = 'retry' | 'refresh' | 'stop';

export function closeCode(event: unknown): number | null {
  if (event && typeof event === 'object' && 'code' in event && typeof (event as { code: unknown }).code === 'number') {
    return (event as { code: number }).code;
  }
  return null;
}

/**
 * 4403 (token refused): refresh the token and try again, at most twice in a row.
 * 4400/4406/4500 (protocol or server bugs): stop. Anything else (network): retry.
 */
export function shouldRetrySocket(event: unknown, refusalsInARow: number): SocketDecision {
  const code = closeCode(event);
  if (code === 4403 || code === 4401) return refusalsInARow < 2 ? 'refresh' : 'stop';
  if (code === 4400 || code === 4406 || code === 4500) return 'stop';
  return 'retry';
}

/**
 * 4429: the account holds as many sockets as it may (other tabs, scripts). graphql-ws takes
 * that close as final and fails the subscriptions, so they are started again here after a
 * wait that grows (5 s, 10 s, 20 s, … at most a minute), spread so that tabs do not all come
 * back at once. `null`: not this case.
 */
export function resubscribeDelay(event: unknown, attempt: number, random = Math.random): number | null {
  if (closeCode(event) !== 4429) return null;
  const base = Math.min(5_000 * 2 ** attempt, 60_000);
  return Math.round(base * (0.75 + random() * 0.5));
}
