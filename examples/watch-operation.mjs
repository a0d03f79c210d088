// Watch an Organizer operation live with the `graphql-ws` client.
//
//   npm ci            (in examples/: graphql-ws and ws, pinned by package-lock.json)
//   ORGANIZER_TOKEN=<access token or API key> node watch-operation.mjs <operation id>
//
// Prints every progress event and exits when the operation ends.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.ORGANIZER_WS_URL ?? 'ws://127.0.0.1:8000/graphql/ws';
const token = process.env.ORGANIZER_TOKEN;
const operationId = process.argv[2];
if (!token || !operationId) {
  console.error('usage: ORGANIZER_TOKEN=... node watch-operation.mjs <operation id>');
  process.exit(2);
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  // A refused credential (close code 4403) will not get better by retrying.
  shouldRetry: (closeEvent) => closeEvent?.code !== 4403,
});

const query = `subscription($id: ID!) {
  operationProgress(id: $id) { status phase percent filesScanned filesProcessed filesSkipped message }
}`;

let failed = false;
try {
for await (const result of client.iterate({ query, variables: { id: operationId } })) {
  if (result.errors) {
    console.error(result.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('\n'));
    failed = true;
    break;
  }
  const p = result.data.operationProgress;
  const percent = p.percent == null ? '   ?' : `${p.percent.toFixed(0).padStart(3)}%`;
  console.log(`${percent} ${p.status.padEnd(9)} ${p.phase.padEnd(9)} scanned ${p.filesScanned} moved ${p.filesProcessed} skipped ${p.filesSkipped}`);
}
} catch (err) {
  console.error(err?.code === 4403 ? 'the server refused the token (4403)' : err);
  failed = true;
}
await client.dispose();
process.exit(failed ? 1 : 0);
