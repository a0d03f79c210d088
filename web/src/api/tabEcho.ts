// Other tabs learn of operations from their own `operationEvents`. Changes no event tells
// of (a folder made, the trash emptied, an upload, a rule, a key revoked) are echoed to
// them: each tab runs the mutation and its answer through its own cache's `updates`,
// answered locally (answerExchange), never sent to the server again.
import { createRequest, mapExchange, stringifyDocument, type Client, type Exchange } from 'urql';
import type { DocumentNode } from 'graphql';
import { answeredWith } from './answerExchange';

/** Mutations echoed. Not `createApiKey`: its answer holds the secret, shown once, in one tab. */
const ECHOED = new Set([
  'createFolder',
  'uploadFiles',
  'emptyTrash',
  'purgeTrash',
  'createCategoryRule',
  'updateCategoryRule',
  'deleteCategoryRule',
  'revokeApiKey',
  'revokeSession',
  'updateProfile',
  'adminUpdateUser',
]);

interface Echo {
  query: string;
  variables: Record<string, unknown>;
  data: object;
}

// One channel object for posting and listening: it never hears its own messages.
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('organizer-changes');

/** Whether `document` is a mutation of echoed fields only. */
function isEchoedMutation(document: DocumentNode): boolean {
  return document.definitions.every(
    (d) =>
      d.kind === 'OperationDefinition' &&
      d.operation === 'mutation' &&
      d.selectionSet.selections.every((s) => s.kind === 'Field' && (ECHOED.has(s.name.value) || s.name.value === '__typename')),
  );
}

/** Posts each echoed mutation that succeeded here to the other tabs. */
export const tabEchoExchange: Exchange = mapExchange({
  onResult(result) {
    const { operation } = result;
    if (channel && result.data && !result.error && !operation.context.echoed && isEchoedMutation(operation.query)) {
      const echo: Echo = { query: stringifyDocument(operation.query), variables: (operation.variables ?? {}) as Record<string, unknown>, data: result.data };
      channel.postMessage(echo);
    }
    return result;
  },
});

/** Runs the other tabs' echoes through `client`'s cache while `isSignedIn()`; returns a stop. */
export function replayOtherTabs(client: Client, isSignedIn: () => boolean): () => void {
  if (!channel) return () => undefined;
  const replay = (event: MessageEvent<Echo>) => {
    const { query, variables, data } = event.data;
    if (!isSignedIn() || typeof query !== 'string') return;
    const request = createRequest(query, variables);
    if (!isEchoedMutation(request.query)) return;
    void client.mutation(request.query, variables, { ...answeredWith(data), echoed: true }).toPromise();
  };
  channel.addEventListener('message', replay);
  return () => channel.removeEventListener('message', replay);
}
