//! The GraphQL multipart request (the one `curl -F` speaks), for the test crates that
//! upload files: `#[path = "../common/multipart.rs"] mod multipart;`.

use serde_json::{Value, json};

/// A form running `query` with `variables` plus `$files`, the given files in order.
pub fn upload_form(
    query: &str,
    mut variables: Value,
    files: &[(&str, &[u8])],
) -> reqwest::multipart::Form {
    variables["files"] = Value::Array(vec![Value::Null; files.len()]);
    let operations = json!({ "query": query, "variables": variables });
    let map: serde_json::Map<String, Value> = (0..files.len())
        .map(|i| (i.to_string(), json!([format!("variables.files.{i}")])))
        .collect();
    let mut form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string());
    for (i, (name, content)) in files.iter().enumerate() {
        form = form.part(
            i.to_string(),
            reqwest::multipart::Part::bytes(content.to_vec()).file_name(name.to_string()),
        );
    }
    form
}
