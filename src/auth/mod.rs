//! Accounts and credentials: passwords, access tokens, refresh tokens, API keys, and the
//! rate limits in front of them. Services here take the `AppState` and the caller; the
//! GraphQL layer only parses and maps.

pub mod account_settings;
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod caller;
pub mod closing;
pub mod jwt;
pub mod links;
pub mod mail_tokens;
pub mod password;
pub mod rate_limit;
pub mod recovery;
pub mod roles;
pub mod rotation;
pub mod secrets;
pub mod sessions;
pub mod user_cache;
pub mod validation;
pub mod verification;

pub use caller::{Caller, ClientInfo, authenticate};
