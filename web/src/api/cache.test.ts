// The cache's updates against a fake server: which screens ask the server again after a
// change, and which do not.
import { readFileSync } from 'node:fs';
import { buildSchema, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { Client, makeResult, type Exchange, type Operation } from 'urql';
import { filter, map, pipe, subscribe, take, toPromise } from 'wonka';
import { keys, makeCacheExchange } from './cache';
import { answerExchange, answeredWith } from './answerExchange';
import { OperationEventsSubscription, OperationsQuery } from './documents';
import { MeQuery } from '../features/auth/documents';
import { FilesQuery } from '../features/files/documents';
import { ApiKeysQuery, RevokeApiKeyMutation } from '../features/keys/documents';
import { FileRecordsQuery } from '../features/operations/documents';
import { TrashQuery } from '../features/trash/documents';
import { UploadFilesDocument } from '../generated/uploadDocument';
import type { ProgressFieldsFragment } from '../gql/graphql';

const pageInfo = (endCursor: string | null, hasNextPage = false) => ({ __typename: 'PageInfo', endCursor, hasNextPage });

const OP = {
  __typename: 'Operation',
  id: 'op1',
  type: 'ORGANIZE',
  status: 'RUNNING',
  phase: 'MOVING',
  rootPath: '',
  dryRun: false,
  filesTotal: 2,
  filesScanned: 2,
  filesProcessed: 1,
  filesSkipped: 0,
  duplicatesFound: 0,
  spaceSavedBytes: 0,
  errorMessage: null,
  createdAt: '2024-01-01T00:00:00Z',
  startedAt: null,
  completedAt: null,
  rollbackOf: null,
  planOf: null,
  trashPurgedAt: null,
};

const record = (id: string) => ({
  __typename: 'FileRecord',
  id,
  originalPath: `${id}.txt`,
  newPath: null,
  fileName: `${id}.txt`,
  fileSizeBytes: 1,
  fileHash: null,
  category: null,
  isDuplicate: false,
  status: 'DONE',
  errorMessage: null,
});

/** What the fake server answers to each query, by operation name. */
function answer(operation: Operation, server: Server): Record<string, unknown> {
  const vars = operation.variables as Record<string, unknown>;
  switch (operation.kind === 'query' && operationName(operation)) {
    case 'Me':
      return {
        me: {
          __typename: 'User',
          id: 'u1',
          email: 'a@example.com',
          username: 'a',
          fullName: null,
          subscriptionTier: 'FREE',
          storageQuotaGb: 1,
          storageUsedBytes: 100,
          createdAt: '2024-01-01T00:00:00Z',
          lastLoginAt: null,
          emailVerified: true,
          role: 'USER',
        },
      };
    case 'Files':
      return { files: { __typename: 'FileEntryConnection', totalCount: 0, pageInfo: pageInfo(null), nodes: [] } };
    case 'Trash':
      return { trash: { __typename: 'TrashItemConnection', totalCount: 0, pageInfo: pageInfo(null), nodes: [] } };
    case 'Operations':
      return { operations: { __typename: 'OperationConnection', totalCount: 1, pageInfo: pageInfo(null), nodes: [{ ...OP, status: server.status }] } };
    case 'ApiKeys':
      return {
        apiKeys: ['k1', 'k2'].map((id) => ({ __typename: 'ApiKey', id, name: id, prefix: 'org_', createdAt: '2024-01-01T00:00:00Z', lastUsedAt: null, expiresAt: null })),
      };
    case 'FileRecords': {
      const second = vars.after === 'c1';
      return {
        fileRecords: {
          __typename: 'FileRecordConnection',
          totalCount: 3,
          pageInfo: pageInfo(second ? 'c2' : 'c1', !second),
          nodes: second ? [record('r3')] : [record('r1'), record('r2')],
        },
      };
    }
    default:
      throw new Error(`no answer for ${operationName(operation)}`);
  }
}

function operationName(operation: Operation): string {
  const definition = operation.query.definitions.find((d) => d.kind === 'OperationDefinition');
  return definition?.kind === 'OperationDefinition' ? (definition.name?.value ?? '') : '';
}

/** What the fake server has now. */
interface Server {
  status: string;
}

/** A client whose server is `answer`; `asked` lists the queries it was sent, in order. */
function setup() {
  const state: Server = { status: 'RUNNING' };
  const asked: string[] = [];
  const server: Exchange = () => (operations$) =>
    pipe(
      operations$,
      filter((operation) => operation.kind === 'query'),
      map((operation) => {
        asked.push(operationName(operation));
        return makeResult(operation, { data: answer(operation, state) });
      }),
    );
  const client = new Client({ url: '/graphql', requestPolicy: 'cache-first', exchanges: [makeCacheExchange(), answerExchange, server] });
  /** Keeps a query on screen (as a mounted `useQuery`); returns its latest data. */
  const show = <D, V extends object>(query: Parameters<typeof client.query<D, V>>[0], variables: V) => {
    const latest: { data?: D } = {};
    pipe(
      client.query(query, variables as never),
      subscribe((result) => {
        if (result.data) latest.data = result.data as D;
      }),
    );
    return latest;
  };
  const event = (progress: Partial<ProgressFieldsFragment>) =>
    pipe(client.subscription(OperationEventsSubscription, {}, answeredWith({ operationEvents: { ...PROGRESS, ...progress } })), take(1), toPromise);
  return { client, asked, show, event, server: state };
}

const PROGRESS = {
  __typename: 'OperationProgress',
  operationId: 'op1',
  status: 'RUNNING',
  phase: 'MOVING',
  dryRun: false,
  filesTotal: 2,
  filesScanned: 2,
  filesProcessed: 2,
  filesSkipped: 0,
  duplicatesFound: 0,
  spaceSavedBytes: 0,
  percent: 50,
  phaseDone: 1,
  phaseTotal: 2,
  message: null,
  updatedAt: '2024-01-01T00:00:01Z',
  filesPerSecond: null,
  secondsLeft: null,
} as const;

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('cache keys', () => {
  it('names every object type of the schema without an id (stored inside its field)', () => {
    const schema = buildSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
    const roots = new Set(['Query', 'Mutation', 'Subscription']);
    const withoutId = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith('__') && !roots.has(t.name) && !('id' in t.getFields()))
      .map((t) => t.name)
      .sort();
    expect(Object.keys(keys ?? {}).sort()).toEqual(withoutId);
  });
});

describe('cache updates', () => {
  it('an upload report asks again for the listings of its folder and the storage used, not others', async () => {
    const { client, asked, show } = setup();
    show(MeQuery, {});
    show(FilesQuery, { path: 'trip' });
    show(FilesQuery, { path: 'other' });
    await tick();
    asked.length = 0;
    await client.mutation(UploadFilesDocument, { path: 'trip/photos', files: [] }, answeredWith({ uploadFiles: [] })).toPromise();
    await tick();
    expect(asked.sort()).toEqual(['Files', 'Me']);
  });

  it('an operation seen first in an event makes the history ask again, once', async () => {
    const { asked, show, event } = setup();
    show(OperationsQuery, { first: 25 });
    await tick();
    asked.length = 0;
    await event({ operationId: 'op2' });
    await event({ operationId: 'op2', filesProcessed: 2 });
    await tick();
    expect(asked).toEqual(['Operations']);
  });

  it('progress is written into the operation; its end makes files, trash, storage and history stale, once', async () => {
    const { asked, show, event, server } = setup();
    const ops = show(OperationsQuery, { first: 25 });
    show(MeQuery, {});
    show(FilesQuery, { path: '' });
    show(TrashQuery, {});
    await tick();
    asked.length = 0;
    await event({ filesProcessed: 2 });
    await tick();
    expect(asked).toEqual([]);
    expect(ops.data?.operations.nodes[0].filesProcessed).toBe(2);
    server.status = 'COMPLETED';
    await event({ status: 'COMPLETED', phase: 'DONE' });
    await event({ status: 'COMPLETED', phase: 'DONE' }); // the same end from the other subscription
    await tick();
    expect(asked.sort()).toEqual(['Files', 'Me', 'Operations', 'Trash']);
  });

  it('the end of a dry run leaves files, trash and storage alone', async () => {
    const { asked, show, event } = setup();
    show(OperationsQuery, { first: 25 });
    show(MeQuery, {});
    show(FilesQuery, { path: '' });
    await tick();
    asked.length = 0;
    await event({ status: 'COMPLETED', phase: 'DONE', dryRun: true });
    await tick();
    expect(asked).toEqual(['Operations']);
  });

  it('a revoked key leaves the list without asking the server', async () => {
    const { client, asked, show } = setup();
    const list = show(ApiKeysQuery, {});
    await tick();
    asked.length = 0;
    await client.mutation(RevokeApiKeyMutation, { id: 'k1' }, answeredWith({ revokeApiKey: true })).toPromise();
    await tick();
    expect(asked).toEqual([]);
    expect(list.data?.apiKeys.map((k) => k.id)).toEqual(['k2']);
  });

  it('"load more" pages are merged, with the total', async () => {
    const { client } = setup();
    await client.query(FileRecordsQuery, { operationId: 'op1', first: 2 }).toPromise();
    const merged = await client.query(FileRecordsQuery, { operationId: 'op1', first: 2, after: 'c1' }).toPromise();
    expect(merged.data?.fileRecords.nodes.map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
    expect(merged.data?.fileRecords.totalCount).toBe(3);
    expect(merged.data?.fileRecords.pageInfo.hasNextPage).toBe(false);
  });
});
