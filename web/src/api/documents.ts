// GraphQL documents used outside one feature: operations started, watched and waited on
// from several pages and from the layout, and the layout's verify-address banner. Each
// feature keeps its own in features/<feature>/documents.ts; graphql-codegen types them all
// from ../schema.graphql (codegen.ts).
import { graphql } from '../gql';

export const OperationFieldsFragment = graphql(`
  fragment OperationFields on Operation {
    id
    type
    status
    phase
    rootPath
    dryRun
    filesTotal
    filesScanned
    filesProcessed
    filesSkipped
    duplicatesFound
    spaceSavedBytes
    errorMessage
    createdAt
    startedAt
    completedAt
    rollbackOf
    planOf
    trashPurgedAt
  }
`);

export const OperationsQuery = graphql(`
  query Operations($first: Int, $after: String, $status: OperationStatus, $type: OperationType) {
    operations(first: $first, after: $after, status: $status, type: $type) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...OperationFields
      }
    }
  }
`);

export const StartOperationMutation = graphql(`
  mutation StartOperation($input: StartOperationInput!) {
    startOperation(input: $input) {
      ...OperationFields
    }
  }
`);

export const CancelOperationMutation = graphql(`
  mutation CancelOperation($id: ID!) {
    cancelOperation(id: $id) {
      ...OperationFields
    }
  }
`);

export const ProgressFieldsFragment = graphql(`
  fragment ProgressFields on OperationProgress {
    operationId
    status
    phase
    dryRun
    filesTotal
    filesScanned
    filesProcessed
    filesSkipped
    duplicatesFound
    spaceSavedBytes
    percent
    phaseDone
    phaseTotal
    message
    updatedAt
    filesPerSecond
    secondsLeft
  }
`);

export const OperationEventsSubscription = graphql(`
  subscription OperationEvents {
    operationEvents {
      ...ProgressFields
    }
  }
`);

export const OperationProgressSubscription = graphql(`
  subscription OperationProgress($id: ID!) {
    operationProgress(id: $id) {
      ...ProgressFields
    }
  }
`);

export const OperationStatusQuery = graphql(`
  query OperationStatus($id: ID!) {
    operation(id: $id) {
      id
      status
      errorMessage
      filesProcessed
      filesSkipped
    }
  }
`);

export const RequestEmailVerificationMutation = graphql(`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`);
