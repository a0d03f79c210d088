// The urql client's normalized cache (Graphcache): entities by `id`, lists loaded page by
// page merged (relayPagination), and for each mutation and progress event what it makes
// stale (cacheUpdates.ts), so screens change when the server says so, not on a timer.
import { cacheExchange, type CacheExchangeOpts, type UpdateResolver, type UpdatesConfig } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import type { Exchange } from 'urql';
import type { ProgressFieldsFragment } from '../gql/graphql';
import {
  applyProgress,
  invalidateFiles,
  invalidateOperationLists,
  invalidateQueryField,
  invalidateStorageUsage,
  prependToList,
  removeFromList,
  trashPurged,
} from './cacheUpdates';
import { normalizePath } from '../lib/format';

const embedded = () => null;

/**
 * Types without an `id`: stored inside the field that holds them (a connection inside its
 * `Query` field with its arguments, a report inside `operationReport(id)`), never shared.
 */
export const keys: CacheExchangeOpts['keys'] = Object.fromEntries(
  [
    'AuthPayload',
    'CategoryStat',
    'CreatedApiKey',
    'DuplicateGroup', // the same hash in two cleanups is two groups
    'DuplicateGroupConnection',
    'DuplicateGroupEdge',
    'FileEntry', // a listing is read again as a whole
    'FileEntryConnection',
    'FileEntryEdge',
    'FileRecordConnection',
    'FileRecordEdge',
    'FolderCount',
    'OperationConnection',
    'OperationEdge',
    'OperationProgress', // written into its Operation (applyProgress)
    'OperationReport',
    'PageInfo',
    'ServerStatus',
    'SkipReason',
    'StatusCount',
    'TrashItemConnection',
    'TrashItemEdge',
    'UserConnection',
    'UserEdge',
  ].map((type) => [type, embedded]),
);

/** "Load more" lists: each page is added to the ones before (the others go page by page). */
const resolvers: CacheExchangeOpts['resolvers'] = {
  Query: {
    fileRecords: relayPagination(),
    duplicateGroups: relayPagination(),
  },
};

/** A mutation's or subscription's answer, as far as its update reads it. */
type Answer<F extends string, T> = { [field in F]?: T | null };
const parentOf = (path: string) => normalizePath(path).split('/').slice(0, -1).join('/');

/** An operation was started: the history lists it; what it changes goes when it ends. */
const started: UpdateResolver = (_result, _args, cache) => invalidateOperationLists(cache);

/** A rule decides categories: the rules list and the category shown beside each file. */
const rulesChanged: UpdateResolver = (_result, _args, cache) => {
  cache.invalidate('Query', 'categoryRules');
  invalidateFiles(cache);
};

export const updates: UpdatesConfig = {
  Mutation: {
    startOperation: started,
    applyPlan: started,
    rollbackOperation: started,
    renameEntry: started,
    moveEntries: started,
    deleteEntries: started,
    restoreEntries: started,
    purgeTrash: (_result, args, cache) => trashPurged(cache, String(args.operationId)),
    emptyTrash: (_result, _args, cache) => {
      invalidateQueryField(cache, 'trash');
      invalidateStorageUsage(cache);
    },
    createFolder: (_result, args, cache) => invalidateFiles(cache, parentOf(String(args.path))),
    // Reported by the upload manager for each batch stored (uploads go over their own requests).
    uploadFiles: (_result, args, cache) => {
      invalidateFiles(cache, String(args.path));
      invalidateStorageUsage(cache);
    },
    createCategoryRule: rulesChanged,
    updateCategoryRule: rulesChanged,
    deleteCategoryRule: (result, args, cache) => {
      if ((result as Answer<'deleteCategoryRule', boolean>).deleteCategoryRule) {
        removeFromList(cache, 'categoryRules', { __typename: 'CategoryRule', id: String(args.id) });
      }
      invalidateFiles(cache);
    },
    createApiKey: (result, _args, cache) => {
      const created = (result as Answer<'createApiKey', { apiKey: { id: string } }>).createApiKey;
      if (created) prependToList(cache, 'apiKeys', { __typename: 'ApiKey', id: created.apiKey.id });
    },
    revokeApiKey: (result, args, cache) => {
      if ((result as Answer<'revokeApiKey', boolean>).revokeApiKey) removeFromList(cache, 'apiKeys', { __typename: 'ApiKey', id: String(args.id) });
    },
    revokeSession: (result, args, cache) => {
      if ((result as Answer<'revokeSession', boolean>).revokeSession) removeFromList(cache, 'sessions', { __typename: 'Session', id: String(args.id) });
    },
  },
  Subscription: {
    operationEvents: (result, _args, cache) => {
      const event = (result as Answer<'operationEvents', ProgressFieldsFragment>).operationEvents;
      if (event) applyProgress(cache, event);
    },
    operationProgress: (result, _args, cache) => {
      const event = (result as Answer<'operationProgress', ProgressFieldsFragment>).operationProgress;
      if (event) applyProgress(cache, event);
    },
  },
};

export function makeCacheExchange(): Exchange {
  return cacheExchange({ keys, resolvers, updates });
}
