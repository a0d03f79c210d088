// The GraphQL documents of the rules feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

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
