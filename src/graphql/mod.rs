//! The GraphQL API: the schema (one merged object per domain), its limits and the error
//! policy. Resolvers parse, check the caller, call one service, and map to a DTO.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod connection;
pub mod context;
pub mod documents;
pub mod errors;
pub mod files;
pub mod ids;
pub mod input_bounds;
pub mod operations;
pub mod rules;
pub mod scalars;
pub mod server;
pub mod session_cookie;
pub mod subscriptions;
pub mod trash;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::state::AppState;

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::AccountQuery,
    admin::AdminQuery,
    operations::OperationQuery,
    files::FileQuery,
    rules::RuleQuery,
    api_keys::ApiKeyQuery,
    server::ServerQuery,
    trash::TrashQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutation,
    admin::AdminMutation,
    api_keys::ApiKeyMutation,
    operations::OperationMutation,
    files::FileMutation,
    rules::RuleMutation,
    trash::TrashMutation,
);

pub type AppSchema = Schema<Query, Mutation, subscriptions::Subscription>;

/// Deep enough for GraphiQL's introspection query (TypeRef nests `ofType` many levels),
/// shallow enough to stop abuse; our types have no cycles worth walking deeper.
pub const MAX_DEPTH: usize = 24;
pub const MAX_COMPLEXITY: usize = 5_000;
pub const MAX_QUERY_BYTES: usize = 32 * 1024;
/// Aliases per document: enough for any client we know, far too few to multiply work.
pub const MAX_ALIASES: usize = 30;
/// What a connection field costs on top of its items: it runs a count and a page query.
pub const CONNECTION_COST: usize = 10;

/// A connection field weighs its page: the page size times what each item asks for,
/// plus the queries behind the connection itself.
pub fn connection_cost(first: Option<i32>, child_complexity: usize) -> usize {
    CONNECTION_COST + crate::paging::page_size(first) as usize * child_complexity
}

fn builder() -> SchemaBuilder<Query, Mutation, subscriptions::Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscriptions::Subscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(16)
    // Outermost: a cached document has passed the error policy's parse-time limits.
    .extension(documents::DocumentCache::default())
    .extension(errors::ErrorPolicy {
        max_query_bytes: MAX_QUERY_BYTES,
        max_aliases: MAX_ALIASES,
    })
}

/// The schema the server runs, with the app state in its data.
pub fn build(state: AppState) -> AppSchema {
    let hide = state.config.disable_introspection;
    let mut builder = builder().data(state);
    if hide {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL that `organizer schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    builder().finish().sdl()
}
