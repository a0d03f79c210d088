// What each change on the server makes stale in the normalized cache. Invalidating a field
// makes the screens that show it (and only those open now) ask the server again, once;
// a screen opened later reads the server anyway (`cache-and-network`).
import type { Cache, FieldArgs } from '@urql/exchange-graphcache';
import { graphql } from '../gql';
import type { ProgressFieldsFragment } from '../gql/graphql';
import { isActiveStatus, normalizePath } from '../lib/format';

/** The part of an operation that a progress event carries, written into its `Operation`. */
const ProgressOnOperationFragment = graphql(`
  fragment ProgressOnOperation on Operation {
    id
    status
    phase
    dryRun
    filesTotal
    filesScanned
    filesProcessed
    filesSkipped
    duplicatesFound
    spaceSavedBytes
  }
`);

/** Invalidates every cached `Query.<field>(…)` whose arguments `pick` accepts. */
export function invalidateQueryField(cache: Cache, field: string, pick: (args: FieldArgs) => boolean = () => true): void {
  for (const info of cache.inspectFields('Query')) {
    if (info.fieldName === field && pick(info.arguments)) cache.invalidate('Query', info.fieldKey);
  }
}

/** Whether the listing of folder `listed` changes when something changes in folder `changed`
 * (it is that folder, or above it: a new folder appears, and searches look below). */
export function listingConcerns(listed: unknown, changed: string): boolean {
  const at = normalizePath(typeof listed === 'string' ? listed : '');
  const folder = normalizePath(changed);
  return at === '' || folder === at || folder.startsWith(`${at}/`);
}

/** The listings that show folder `changed`, or every listing. */
export function invalidateFiles(cache: Cache, changed?: string): void {
  invalidateQueryField(cache, 'files', (args) => changed === undefined || listingConcerns(args?.path, changed));
}

/** The storage meter: the signed-in user's `storageUsedBytes`. */
export function invalidateStorageUsage(cache: Cache): void {
  const me = cache.resolve('Query', 'me');
  if (typeof me === 'string') cache.invalidate(me, 'storageUsedBytes');
}

/** Operation history: a new operation, or one that changed its status (filters, counts). */
export function invalidateOperationLists(cache: Cache): void {
  invalidateQueryField(cache, 'operations');
}

/** An operation's report and records (a rollback reverts them, a purge deletes them). */
export function invalidateOperationRecords(cache: Cache, operationId: string): void {
  const ofOperation = (args: FieldArgs) => args?.operationId === operationId;
  invalidateQueryField(cache, 'fileRecords', ofOperation);
  invalidateQueryField(cache, 'duplicateGroups', ofOperation);
  cache.invalidate('Query', 'operationReport', { id: operationId });
}

/** Removes `entity` from a list field of `Query` (e.g. a revoked key from `apiKeys`). */
export function removeFromList(cache: Cache, field: string, entity: { __typename: string; id: string }): void {
  const key = cache.keyOfEntity(entity);
  const list = cache.resolve('Query', field);
  if (Array.isArray(list)) cache.link('Query', field, list.filter((k) => k !== key) as string[]);
}

/** Puts `entity` first in a list field of `Query` (newest first, as the server orders it). */
export function prependToList(cache: Cache, field: string, entity: { __typename: string; id: string }): void {
  const list = cache.resolve('Query', field);
  if (Array.isArray(list)) cache.link('Query', field, [cache.keyOfEntity(entity), ...(list as string[])]);
}

/** A cleanup's trash deleted for good: the trash, the storage used and its records change. */
export function trashPurged(cache: Cache, operationId: string): void {
  invalidateQueryField(cache, 'trash');
  invalidateStorageUsage(cache);
  invalidateOperationRecords(cache, operationId);
  invalidateOperationLists(cache);
}

/**
 * A progress event (`operationEvents`, `operationProgress`): written into the operation,
 * so every list shows its status. An operation not seen before (started in another tab)
 * makes the history ask again; one that just ended makes stale what it changed. The same
 * end arriving twice (both subscriptions) or late is acted on once.
 */
export function applyProgress(cache: Cache, p: ProgressFieldsFragment): void {
  const operation = { __typename: 'Operation', id: p.operationId };
  const known = cache.resolve(operation, 'id') != null;
  const before = cache.resolve(operation, 'status');
  if (typeof before === 'string' && !isActiveStatus(before)) return;
  const { operationId, status, phase, dryRun, filesTotal, filesScanned, filesProcessed, filesSkipped, duplicatesFound, spaceSavedBytes } = p;
  cache.writeFragment(ProgressOnOperationFragment, {
    __typename: 'Operation',
    id: operationId,
    status,
    phase,
    dryRun,
    filesTotal,
    filesScanned,
    filesProcessed,
    filesSkipped,
    duplicatesFound,
    spaceSavedBytes,
  } as Parameters<typeof cache.writeFragment>[1]);
  if (!known) invalidateOperationLists(cache);
  if (isActiveStatus(status)) return;

  // What the event does not carry comes with the next read; the status stays, so that the
  // same end from the other subscription is known as such.
  for (const field of ['startedAt', 'completedAt', 'errorMessage']) cache.invalidate(operation, field);
  invalidateOperationLists(cache);
  const undid = cache.resolve(operation, 'rollbackOf');
  invalidateOperationRecords(cache, operationId);
  if (typeof undid === 'string') invalidateOperationRecords(cache, undid);
  if (dryRun) return; // a plan moves nothing
  invalidateFiles(cache);
  invalidateQueryField(cache, 'trash');
  invalidateStorageUsage(cache);
}
