//! sea-orm entities: one module per table, no logic. The migrations in `migration/`
//! create exactly these tables.

pub mod account_tokens;
pub mod api_keys;
pub mod category_rules;
pub mod file_records;
pub mod operations;
pub mod prelude;
pub mod refresh_tokens;
pub mod search_entries;
pub mod search_indexes;
pub mod states;
pub mod users;
