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
