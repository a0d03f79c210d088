// The GraphQL documents of the auth feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

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
