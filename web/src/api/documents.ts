// Every operation the app sends. graphql-codegen types them from ../schema.graphql.
import { graphql } from '../gql';

export const UserFieldsFragment = graphql(`
  fragment UserFields on User {
    id
    email
    username
    fullName
    subscriptionTier
    storageQuotaGb
    storageUsedBytes
    createdAt
    lastLoginAt
    emailVerified
    role
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      ...UserFields
    }
  }
`);

export const AuthFieldsFragment = graphql(`
  fragment AuthFields on AuthPayload {
    accessToken
    refreshToken
    expiresIn
    user {
      ...UserFields
    }
  }
`);

export const SignupMutation = graphql(`
  mutation Signup($input: SignupInput!) {
    signup(input: $input) {
      ...AuthFields
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...AuthFields
    }
  }
`);

export const RefreshTokenMutation = graphql(`
  mutation RefreshToken($refreshToken: String) {
    refreshToken(refreshToken: $refreshToken) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout($refreshToken: String) {
    logout(refreshToken: $refreshToken)
  }
`);

export const FilesQuery = graphql(`
  query Files($path: String, $first: Int, $after: String, $search: String, $sort: FileSort) {
    files(path: $path, first: $first, after: $after, search: $search, sort: $sort) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        path
        name
        isDir
        sizeBytes
        modifiedAt
        category
      }
    }
  }
`);

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

export const StartOperationMutation = graphql(`
  mutation StartOperation($input: StartOperationInput!) {
    startOperation(input: $input) {
      ...OperationFields
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

export const CancelOperationMutation = graphql(`
  mutation CancelOperation($id: ID!) {
    cancelOperation(id: $id) {
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

export const CategoryRuleFieldsFragment = graphql(`
  fragment CategoryRuleFields on CategoryRule {
    id
    name
    category
    extensions
    nameGlob
    mimePrefix
    minSizeBytes
    maxSizeBytes
    priority
    updatedAt
  }
`);

export const CategoryRulesQuery = graphql(`
  query CategoryRules {
    categoryRules {
      ...CategoryRuleFields
    }
  }
`);

export const CreateCategoryRuleMutation = graphql(`
  mutation CreateCategoryRule($input: CategoryRuleInput!) {
    createCategoryRule(input: $input) {
      ...CategoryRuleFields
    }
  }
`);

export const UpdateCategoryRuleMutation = graphql(`
  mutation UpdateCategoryRule($id: ID!, $input: CategoryRuleInput!) {
    updateCategoryRule(id: $id, input: $input) {
      ...CategoryRuleFields
    }
  }
`);

export const DeleteCategoryRuleMutation = graphql(`
  mutation DeleteCategoryRule($id: ID!) {
    deleteCategoryRule(id: $id)
  }
`);

export const ApiKeyFieldsFragment = graphql(`
  fragment ApiKeyFields on ApiKey {
    id
    name
    prefix
    createdAt
    lastUsedAt
    expiresAt
  }
`);

export const ApiKeysQuery = graphql(`
  query ApiKeys {
    apiKeys {
      ...ApiKeyFields
    }
  }
`);

export const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey {
        ...ApiKeyFields
      }
    }
  }
`);

export const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id)
  }
`);

export const FileLinkMutation = graphql(`
  mutation FileLink($path: String!, $inline: Boolean) {
    fileLink(path: $path, inline: $inline)
  }
`);

export const CreateFolderMutation = graphql(`
  mutation CreateFolder($path: String!) {
    createFolder(path: $path) {
      path
    }
  }
`);

export const RenameEntryMutation = graphql(`
  mutation RenameEntry($path: String!, $newName: String!) {
    renameEntry(path: $path, newName: $newName) {
      id
      status
    }
  }
`);

export const MoveEntriesMutation = graphql(`
  mutation MoveEntries($paths: [String!]!, $to: String!) {
    moveEntries(paths: $paths, to: $to) {
      id
      status
    }
  }
`);

export const DeleteEntriesMutation = graphql(`
  mutation DeleteEntries($paths: [String!]!) {
    deleteEntries(paths: $paths) {
      id
      status
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

export const RequestEmailVerificationMutation = graphql(`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`);

export const VerifyEmailMutation = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      ...UserFields
    }
  }
`);

export const RequestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export const ResetPasswordMutation = graphql(`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword)
  }
`);

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`);

export const UpdateProfileMutation = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      ...UserFields
    }
  }
`);

export const ChangeEmailMutation = graphql(`
  mutation ChangeEmail($newEmail: String!, $password: String!) {
    changeEmail(newEmail: $newEmail, password: $password)
  }
`);

export const DeleteAccountMutation = graphql(`
  mutation DeleteAccount($password: String!) {
    deleteAccount(password: $password)
  }
`);

export const AdminUserFieldsFragment = graphql(`
  fragment AdminUserFields on User {
    id
    email
    username
    fullName
    subscriptionTier
    storageQuotaGb
    storageUsedBytes
    isActive
    emailVerified
    role
    createdAt
    lastLoginAt
  }
`);

export const UsersQuery = graphql(`
  query Users($first: Int, $after: String, $search: String) {
    users(first: $first, after: $after, search: $search) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...AdminUserFields
      }
    }
  }
`);

export const AdminUpdateUserMutation = graphql(`
  mutation AdminUpdateUser($id: ID!, $input: AdminUserInput!) {
    adminUpdateUser(id: $id, input: $input) {
      ...AdminUserFields
    }
  }
`);

export const ExportAccountMutation = graphql(`
  mutation ExportAccount {
    exportAccount
  }
`);

export const SessionsQuery = graphql(`
  query Sessions {
    sessions {
      id
      signedInAt
      lastActiveAt
      expiresAt
      current
    }
  }
`);

export const RevokeSessionMutation = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);
