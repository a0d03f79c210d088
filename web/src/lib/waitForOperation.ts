// File actions (rename, move, delete, restore) are small operations run by a worker:
// the mutation answers at once, and the page shows the result once the operation ended.
// The end is told by the server (operationProgress: its state first, then each change);
// its outcome is then read once. The cache's updates have made stale what it changed.
import type { Client } from 'urql';
import { OperationProgressSubscription, OperationStatusQuery } from '../api/documents';
import { isActiveStatus } from './format';

export interface Ended {
  status: string;
  errorMessage: string | null;
  filesSkipped: number;
}

export function waitForOperation(client: Client, id: string, timeoutMs = 60_000): Promise<Ended | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ended: Ended | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      progress.unsubscribe();
      resolve(ended);
    };
    const readOutcome = async () => {
      const result = await client.query(OperationStatusQuery, { id }, { requestPolicy: 'network-only' }).toPromise();
      const op = result.data?.operation;
      if (op && !isActiveStatus(op.status)) finish(op);
      else if (result.error || !op) finish(null);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const progress = client.subscription(OperationProgressSubscription, { id }).subscribe((result) => {
      const status = result.data?.operationProgress.status;
      if (result.error || (status && !isActiveStatus(status))) void readOutcome();
    });
  });
}
