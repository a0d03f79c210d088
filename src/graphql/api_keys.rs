//! API keys over GraphQL: `apiKeys`, `createApiKey`, `revokeApiKey`.

use async_graphql::{Context, ID, InputObject, Object, Result, ResultExt, SimpleObject};
use entity::api_keys as key_entity;

use crate::{
    auth::api_keys,
    graphql::{context, ids::parse_id, scalars::DateTime},
};

/// A key for scripts: send it as `Authorization: Bearer <secret>` or `X-API-Key: <secret>`.
#[derive(SimpleObject)]
pub struct ApiKey {
    pub id: ID,
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime,
    pub last_used_at: Option<DateTime>,
    pub expires_at: Option<DateTime>,
}

impl From<key_entity::Model> for ApiKey {
    fn from(key: key_entity::Model) -> Self {
        Self {
            id: ID(key.id.to_string()),
            name: key.name,
            prefix: key.prefix,
            created_at: key.created_at.into(),
            last_used_at: key.last_used_at.map(Into::into),
            expires_at: key.expires_at.map(Into::into),
        }
    }
}

/// A new key and its secret. The secret is shown this once and cannot be recovered.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    pub secret: String,
    pub api_key: ApiKey,
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// A label for people, up to 100 characters.
    pub name: String,
    /// When the key stops working; never, if absent.
    pub expires_at: Option<DateTime>,
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The caller's API keys that are not revoked, newest first.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let caller = context::caller(ctx).await?;
        let keys = api_keys::list(&context::state(ctx).db, caller.user_id())
            .await
            .extend()?;
        Ok(keys.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key; the response holds its secret, shown only this once. Needs a
    /// signed-in session (an access token), not an API key.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Result<CreatedApiKey> {
        let caller = context::session_caller(ctx).await?;
        let created = api_keys::create(
            &context::state(ctx).db,
            caller.user_id(),
            &input.name,
            input.expires_at.map(|at| at.0),
        )
        .await
        .extend()?;
        Ok(CreatedApiKey {
            secret: created.secret,
            api_key: created.key.into(),
        })
    }

    /// Revokes one of the caller's keys; requests with it fail from now on. Needs a
    /// signed-in session, not an API key.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = context::session_caller(ctx).await?;
        let id = parse_id("id", &id).extend()?;
        api_keys::revoke_and_notify(context::state(ctx), caller.user_id(), id)
            .await
            .extend()?;
        Ok(true)
    }
}
