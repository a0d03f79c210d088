//! The schema extension that finishes every error before it leaves:
//! * an internal error (code `INTERNAL_SERVER_ERROR`) is logged here, with its cause and
//!   the request id, and the client gets only the code and `requestId`;
//! * an error that reached the response without a code came from the GraphQL machinery
//!   itself (syntax, validation, limits, argument coercion): it is the client's input, so
//!   it is `BAD_USER_INPUT`;
//! * an over-long query is refused before it is parsed, and one with too many aliases
//!   right after (aliases let one request call a field many times over);
//! * every string and list of the input is bounded up front (`input_bounds`).

use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, Response, ServerError, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextRequest, NextResolve, ResolveInfo,
    },
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

use crate::error::{INTERNAL_MESSAGE, InternalCause};

/// The request id that tower-http assigned (or the client sent), for logs and errors.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub struct ErrorPolicy {
    pub max_query_bytes: usize,
    pub max_aliases: usize,
}

impl ExtensionFactory for ErrorPolicy {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorPolicyExtension {
            max_query_bytes: self.max_query_bytes,
            max_aliases: self.max_aliases,
            request_id: Mutex::new(None),
            root_field: Mutex::new(None),
        })
    }
}

/// Created per request. The request id is taken from the request's data while it is
/// prepared, because the `request` hook runs before that data is attached.
struct ErrorPolicyExtension {
    max_query_bytes: usize,
    max_aliases: usize,
    request_id: Mutex<Option<String>>,
    /// The first top-level field resolved: what the metrics count the request as (a
    /// schema field name, so the label cannot be made up by a client).
    root_field: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Extension for ErrorPolicyExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(id) = request
            .data
            .get(&std::any::TypeId::of::<RequestId>())
            .and_then(|d| d.downcast_ref::<RequestId>())
        {
            *self.request_id.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.0.clone());
        }
        if request.query.len() > self.max_query_bytes {
            return Err(bad_document(format!(
                "query is longer than {} bytes",
                self.max_query_bytes
            )));
        }
        super::input_bounds::check_variables(&request.variables)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        super::input_bounds::check_document(&document)?;
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return Err(bad_document(format!(
                "too many aliases ({aliases}; at most {})",
                self.max_aliases
            )));
        }
        Ok(document)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let request_id = self
            .request_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let request_id = request_id.or_else(|| ctx.data_opt::<RequestId>().map(|id| id.0.clone()));
        for error in &mut response.errors {
            finish_error(error, request_id.as_deref());
        }
        let code = response
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|e| e.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "OK".into());
        let field = self
            .root_field
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| "none".into());
        metrics::counter!(crate::metrics::GRAPHQL_OPERATIONS, "field" => field, "code" => code)
            .increment(1);
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<async_graphql::Value>> {
        if info.path_node.parent.is_none() {
            let mut root = self.root_field.lock().unwrap_or_else(|p| p.into_inner());
            if root.is_none() {
                *root = Some(info.name.to_string());
            }
        }
        next.run(ctx, info).await
    }
}

/// Aliased fields in every operation and fragment of a document.
fn count_aliases(document: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + in_set(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = match &document.operations {
        DocumentOperations::Single(op) => in_set(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => ops
            .values()
            .map(|op| in_set(&op.node.selection_set.node))
            .sum(),
    };
    operations
        + document
            .fragments
            .values()
            .map(|f| in_set(&f.node.selection_set.node))
            .sum::<usize>()
}

/// A document refused before it runs, as `BAD_USER_INPUT`.
fn bad_document(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "BAD_USER_INPUT");
    error
}

pub fn finish_error(error: &mut ServerError, request_id: Option<&str>) {
    let cause = error.source::<InternalCause>().map(|cause| cause.0.clone());
    let path = format!("{:?}", error.path);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let code = extensions.get("code").cloned();
    match code {
        None => extensions.set("code", "BAD_USER_INPUT"),
        Some(code) if code == async_graphql::Value::from("INTERNAL_SERVER_ERROR") => {
            let request_id = request_id.unwrap_or("-");
            let cause = cause.as_deref().unwrap_or("(no cause recorded)");
            tracing::error!(request_id, path, cause, "internal error");
            error.message = INTERNAL_MESSAGE.to_string();
            extensions.set("requestId", request_id);
        }
        Some(_) => {}
    }
}
