// The GraphQL documents of the trash feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

export const TrashQuery = graphql(`
  query Trash($first: Int, $after: String) {
    trash(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        originalPath
        trashPath
        sizeBytes
        deletedAt
        operationId
        operationType
      }
    }
  }
`);

export const RestoreEntriesMutation = graphql(`
  mutation RestoreEntries($ids: [ID!]!) {
    restoreEntries(ids: $ids) {
      id
      status
    }
  }
`);

export const EmptyTrashMutation = graphql(`
  mutation EmptyTrash($ids: [ID!]) {
    emptyTrash(ids: $ids)
  }
`);
