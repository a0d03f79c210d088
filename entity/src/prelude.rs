//! The entities under short names.

pub use crate::api_keys::Entity as ApiKeys;
pub use crate::category_rules::Entity as CategoryRules;
pub use crate::file_records::Entity as FileRecords;
pub use crate::operations::Entity as Operations;
pub use crate::refresh_tokens::Entity as RefreshTokens;
pub use crate::users::Entity as Users;
