// The GraphQL documents of the operations feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

export const OperationQuery = graphql(`
  query Operation($id: ID!) {
    operation(id: $id) {
      ...OperationFields
    }
  }
`);

export const FileRecordFieldsFragment = graphql(`
  fragment FileRecordFields on FileRecord {
    id
    originalPath
    newPath
    fileName
    fileSizeBytes
    fileHash
    category
    isDuplicate
    status
    errorMessage
  }
`);

export const FileRecordsQuery = graphql(`
  query FileRecords($operationId: ID!, $first: Int, $after: String, $duplicatesOnly: Boolean, $search: String) {
    fileRecords(operationId: $operationId, first: $first, after: $after, duplicatesOnly: $duplicatesOnly, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...FileRecordFields
      }
    }
  }
`);

export const DuplicateGroupsQuery = graphql(`
  query DuplicateGroups($operationId: ID!, $first: Int, $after: String) {
    duplicateGroups(operationId: $operationId, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        hash
        sizeBytes
        kept {
          ...FileRecordFields
        }
        files {
          ...FileRecordFields
        }
      }
    }
  }
`);

export const OperationReportQuery = graphql(`
  query OperationReport($id: ID!) {
    operationReport(id: $id) {
      categories {
        category
        files
        bytes
      }
      folders {
        folder
        files
        bytes
      }
      duplicatesFound
      spaceSavedBytes
      filesFailed
      skipped {
        reason
        files
      }
      statuses {
        status
        files
      }
    }
  }
`);

export const ApplyPlanMutation = graphql(`
  mutation ApplyPlan($id: ID!, $exclude: [ID!], $keep: [ID!]) {
    applyPlan(id: $id, exclude: $exclude, keep: $keep) {
      ...OperationFields
    }
  }
`);

export const RollbackOperationMutation = graphql(`
  mutation RollbackOperation($id: ID!) {
    rollbackOperation(id: $id) {
      ...OperationFields
    }
  }
`);

export const PurgeTrashMutation = graphql(`
  mutation PurgeTrash($operationId: ID!) {
    purgeTrash(operationId: $operationId) {
      ...OperationFields
    }
  }
`);
