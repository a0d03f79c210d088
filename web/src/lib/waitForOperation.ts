// File actions (rename, move, delete, restore) are small operations run by a worker:
// the mutation answers at once, and the page shows the result once the operation ended.
import type { Client } from 'urql';
import { OperationStatusQuery } from '../api/documents';

export interface Ended {
  status: string;
  errorMessage: string | null;
  filesSkipped: number;
}

const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export async function waitForOperation(client: Client, id: string, timeoutMs = 60_000): Promise<Ended | null> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  while (Date.now() < deadline) {
    const result = await client.query(OperationStatusQuery, { id }, { requestPolicy: 'network-only' }).toPromise();
    const op = result.data?.operation;
    if (op && ENDED.has(op.status)) return op;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
  return null;
}
