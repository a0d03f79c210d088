// The GraphQL documents of the admin feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

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
