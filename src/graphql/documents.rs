//! Parsed documents, kept by their text: clients send the same few queries over and over,
//! and parsing is the largest part of a small request's cost. A document is kept only
//! after it passed every parse-time limit (the extensions after this one), so a hit is
//! exactly what parsing would have produced. Validation still runs on every request.

use std::sync::Arc;

use async_graphql::{
    ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::ExecutableDocument,
};
use quick_cache::sync::Cache;

/// Longer documents are parsed each time: the cache stays small whatever clients send.
const MAX_KEPT_BYTES: usize = 4 * 1024;
const KEPT_DOCUMENTS: usize = 256;

#[derive(Clone)]
pub struct DocumentCache {
    parsed: Arc<Cache<String, ExecutableDocument>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            parsed: Arc::new(Cache::new(KEPT_DOCUMENTS)),
        }
    }
}

impl ExtensionFactory for DocumentCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for DocumentCache {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.parsed.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        if query.len() <= MAX_KEPT_BYTES {
            self.parsed.insert(query.to_owned(), document.clone());
        }
        Ok(document)
    }
}
