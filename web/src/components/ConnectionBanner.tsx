import { connectivity } from '../api/runtime';
import { useConnectivity, useNow } from '../hooks';

export function ConnectionBanner() {
  const state = useConnectivity();
  const now = useNow(1000);
  if (state.down.length === 0) return null;
  const http = state.down.includes('http');
  const seconds = state.nextRetryAt ? Math.max(0, Math.ceil((state.nextRetryAt - now) / 1000)) : null;
  return (
    <div className="banner banner-warning" role="status" aria-live="polite">
      <span>
        {http ? 'The server cannot be reached.' : 'Live updates are disconnected.'}{' '}
        {http
          ? seconds != null && seconds > 0
            ? `Retrying in ${seconds} s.`
            : 'Retrying…'
          : 'Reconnecting…'}
      </span>
      {http && (
        <button type="button" className="btn btn-small" onClick={() => connectivity.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
