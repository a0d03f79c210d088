import { useMemo } from 'react';
import { useQuery, useSubscription } from 'urql';
import { OperationEventsSubscription, OperationProgressSubscription, OperationsQuery } from '../api/documents';
import { recordProgress, useLiveProgress } from '../live/progressStore';
import { folderLabel, isActiveStatus, operationTypeLabel } from '../lib/format';
import { Link } from '../router';
import { OperationProgressView } from './OperationProgressView';
import { useNow, useRefetchOnReconnect } from '../hooks';

const RECENT_MS = 20_000;

/**
 * Every running operation of the user, live (operationEvents: every change from now on).
 * The list comes from the cache, whose updates ask for it again when an operation it does
 * not know of (started in another tab) sends its first event.
 */
export function LiveOperations({ exceptId }: { exceptId?: string } = {}) {
  const [ops, refetchOps] = useQuery({ query: OperationsQuery, variables: { first: 30 } });
  useRefetchOnReconnect(() => refetchOps({ requestPolicy: 'network-only' }));
  useSubscription({ query: OperationEventsSubscription }, (_prev, data) => {
    recordProgress(data.operationEvents);
    return data;
  });
  const live = useLiveProgress();
  const now = useNow(2000);

  const known = useMemo(() => {
    const map = new Map<string, { type: string; rootPath: string; dryRun: boolean }>();
    for (const op of ops.data?.operations.nodes ?? []) map.set(op.id, op);
    return map;
  }, [ops.data]);

  // Seed from the list: operations already running when the page loaded.
  const seeded = (ops.data?.operations.nodes ?? []).filter(
    (op) => isActiveStatus(op.status) && !live.has(op.id) && op.id !== exceptId,
  );

  // Running ones, and for a few seconds the ones that just ended (not on an operation's
  // own page, where that operation's outcome is the page).
  const shown = [...live.values()].filter(
    (e) =>
      e.progress.operationId !== exceptId &&
      (isActiveStatus(e.progress.status) || (exceptId === undefined && now - e.receivedAt < RECENT_MS)),
  );
  const running = shown.some((e) => isActiveStatus(e.progress.status)) || seeded.length > 0;
  if (shown.length === 0 && seeded.length === 0) return null;

  return (
    <section className="card live-panel" aria-labelledby="live-heading">
      <h2 id="live-heading">{running ? 'Running now' : 'Just finished'}</h2>
      <ul className="live-list">
        {shown.map((entry) => {
          const meta = known.get(entry.progress.operationId);
          const title = meta
            ? `${operationTypeLabel(meta.type)}${meta.dryRun ? ' (dry run)' : ''} · ${folderLabel(meta.rootPath)}`
            : 'Operation';
          return (
            <li key={entry.progress.operationId}>
              <OperationProgressView entry={entry} title={title} showDuplicates={meta?.type === 'DUPLICATE_CLEANUP'} />
              <Link to={`/operations/${entry.progress.operationId}`} className="small">
                Details
              </Link>
            </li>
          );
        })}
        {seeded.map((op) => (
          <li key={op.id}>
            <WatchProgress id={op.id} />
            <span>
              {operationTypeLabel(op.type)} · {folderLabel(op.rootPath)}: waiting for progress…
            </span>{' '}
            <Link to={`/operations/${op.id}`} className="small">
              Details
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * An operation listed as running before any event came for it (it may even have ended
 * before this tab listened): its state now, from operationProgress. Once that arrived, the
 * operation is live and this unmounts; operationEvents goes on.
 */
function WatchProgress({ id }: { id: string }) {
  useSubscription({ query: OperationProgressSubscription, variables: { id } }, (_prev, data) => {
    recordProgress(data.operationProgress);
    return data;
  });
  return null;
}
