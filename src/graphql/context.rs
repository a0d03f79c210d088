//! Per-request data the resolvers read: the app state, the client, and the caller's
//! credential, resolved to a user on first use and at most once per request.

use async_graphql::{Context, ErrorExtensions};
use tokio::sync::OnceCell;

use crate::{
    auth::{self, Caller, ClientInfo},
    error::{AppError, AppResult},
    state::AppState,
};

/// The credential a request carried, and the caller it resolved to (once resolved, a
/// request never looks the credential up again).
pub struct Auth {
    credential: Option<String>,
    resolved: OnceCell<Caller>,
    /// Looked up on every use, never kept: a WebSocket's credential, checked again for
    /// each subscription it starts.
    every_use: bool,
}

impl Auth {
    pub fn from_credential(credential: Option<String>) -> Self {
        Self {
            credential,
            resolved: OnceCell::new(),
            every_use: false,
        }
    }

    /// A credential checked again each time a caller is asked for.
    pub fn every_use(credential: String) -> Self {
        Self {
            credential: Some(credential),
            resolved: OnceCell::new(),
            every_use: true,
        }
    }

    /// Already resolved (the WebSocket checks the token at `connection_init`).
    pub fn resolved(caller: Caller) -> Self {
        Self {
            credential: None,
            resolved: OnceCell::new_with(Some(caller)),
            every_use: false,
        }
    }

    async fn caller(&self, state: &AppState) -> AppResult<Caller> {
        if let Some(caller) = self.resolved.get() {
            return Ok(caller.clone());
        }
        let Some(credential) = self.credential.as_deref() else {
            return Err(AppError::Unauthenticated(
                "sign in first: send Authorization: Bearer <access token or API key>".into(),
            ));
        };
        if self.every_use {
            return auth::authenticate(state, credential).await;
        }
        self.resolved
            .get_or_try_init(|| auth::authenticate(state, credential))
            .await
            .cloned()
    }
}

/// The `Authorization: Bearer …` or `X-API-Key` value of a request, if any.
pub fn credential_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    bearer
        .or(api_key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

pub fn client<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a ClientInfo> {
    ctx.data_opt::<ClientInfo>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request has no client info")).extend())
}

/// The signed-in caller, or `UNAUTHENTICATED`.
pub async fn caller(ctx: &Context<'_>) -> async_graphql::Result<Caller> {
    let Some(auth) = ctx.data_opt::<Auth>() else {
        return Err(AppError::Unauthenticated("sign in first".into()).extend());
    };
    auth.caller(state(ctx)).await.map_err(|e| e.extend())
}

/// The caller, signed in with a session (an access token) rather than an API key: for
/// what a leaked key must not be able to do, such as minting or revoking keys.
pub async fn session_caller(ctx: &Context<'_>) -> async_graphql::Result<Caller> {
    let caller = caller(ctx).await?;
    if caller.api_key_id.is_some() {
        return Err(AppError::Forbidden(
            "an API key cannot manage API keys: sign in and use the access token".into(),
        )
        .extend());
    }
    Ok(caller)
}
