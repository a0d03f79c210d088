//! Category rules over GraphQL.

use async_graphql::{Context, ID, InputObject, Object, Result, ResultExt, SimpleObject};
use entity::category_rules;

use crate::{
    graphql::{
        context,
        ids::parse_id,
        scalars::{BigInt, DateTime},
    },
    rules::{self, RuleInput},
};

/// Your own rule for choosing a category; rules win over the built-in defaults, the highest
/// `priority` first. A rule matches when all its conditions hold.
#[derive(SimpleObject)]
pub struct CategoryRule {
    pub id: ID,
    pub name: String,
    /// The folder name files matching the rule go to.
    pub category: String,
    /// Lower-case extensions without the dot.
    pub extensions: Vec<String>,
    pub name_glob: Option<String>,
    pub mime_prefix: Option<String>,
    pub min_size_bytes: Option<BigInt>,
    pub max_size_bytes: Option<BigInt>,
    pub priority: i32,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl From<category_rules::Model> for CategoryRule {
    fn from(rule: category_rules::Model) -> Self {
        Self {
            id: ID(rule.id.to_string()),
            name: rule.name,
            category: rule.category,
            extensions: serde_json::from_value(rule.extensions).unwrap_or_default(),
            name_glob: rule.name_glob,
            mime_prefix: rule.mime_prefix,
            min_size_bytes: rule.min_size_bytes.map(BigInt),
            max_size_bytes: rule.max_size_bytes.map(BigInt),
            priority: rule.priority,
            created_at: rule.created_at.into(),
            updated_at: rule.updated_at.into(),
        }
    }
}

#[derive(InputObject)]
pub struct CategoryRuleInput {
    pub name: String,
    pub category: String,
    #[graphql(default)]
    pub extensions: Vec<String>,
    /// Matched against the file name, e.g. `scan_*.pdf`.
    pub name_glob: Option<String>,
    /// Matched against the type the content shows, e.g. `image/`.
    pub mime_prefix: Option<String>,
    pub min_size_bytes: Option<BigInt>,
    pub max_size_bytes: Option<BigInt>,
    #[graphql(default)]
    pub priority: i32,
}

impl From<CategoryRuleInput> for RuleInput {
    fn from(input: CategoryRuleInput) -> Self {
        Self {
            name: input.name,
            category: input.category,
            extensions: input.extensions,
            name_glob: input.name_glob,
            mime_prefix: input.mime_prefix,
            min_size_bytes: input.min_size_bytes.map(|b| b.0),
            max_size_bytes: input.max_size_bytes.map(|b| b.0),
            priority: input.priority,
        }
    }
}

#[derive(Default)]
pub struct RuleQuery;

#[Object]
impl RuleQuery {
    /// Your category rules, highest priority first.
    async fn category_rules(&self, ctx: &Context<'_>) -> Result<Vec<CategoryRule>> {
        let caller = context::caller(ctx).await?;
        let rules = rules::list(&context::state(ctx).db, caller.user_id())
            .await
            .extend()?;
        Ok(rules.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct RuleMutation;

#[Object]
impl RuleMutation {
    async fn create_category_rule(
        &self,
        ctx: &Context<'_>,
        input: CategoryRuleInput,
    ) -> Result<CategoryRule> {
        let caller = context::caller(ctx).await?;
        Ok(
            rules::create(&context::state(ctx).db, caller.user_id(), input.into())
                .await
                .extend()?
                .into(),
        )
    }

    async fn update_category_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CategoryRuleInput,
    ) -> Result<CategoryRule> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        Ok(
            rules::update(&context::state(ctx).db, caller.user_id(), id, input.into())
                .await
                .extend()?
                .into(),
        )
    }

    async fn delete_category_rule(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = context::caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        rules::delete(&context::state(ctx).db, caller.user_id(), id)
            .await
            .extend()?;
        Ok(true)
    }
}
