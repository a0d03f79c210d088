//! GraphQL `ID`s are UUIDs; a malformed one is the caller's mistake.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub fn parse_id(field: &str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::bad_input(field, format!("{field} is not a valid ID")))
}

/// A list of IDs, each a UUID.
pub fn parse_ids(field: &str, ids: &[ID]) -> AppResult<Vec<Uuid>> {
    ids.iter().map(|id| parse_id(field, id)).collect()
}
