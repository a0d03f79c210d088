//! One bound for every string and list a request carries, in its variables or written
//! into the document, checked before anything runs: no input type can be made to hold a
//! megabyte string or a list of thousands (each field's own, tighter bound is checked by
//! its service). The error names the offending field.

use async_graphql::{
    ServerError, Value, Variables,
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

/// Bytes of any one string.
pub const MAX_STRING_BYTES: usize = 16 * 1024;
/// Items of any one list.
pub const MAX_LIST_ITEMS: usize = 1000;

/// The variables of a request.
pub fn check_variables(variables: &Variables) -> Result<(), ServerError> {
    for (name, value) in variables.iter() {
        check(value, &mut name.to_string())?;
    }
    Ok(())
}

/// The arguments written into a document (variables are checked on their own).
pub fn check_document(document: &ExecutableDocument) -> Result<(), ServerError> {
    fn in_set(set: &SelectionSet) -> Result<(), ServerError> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        let value = value
                            .node
                            .clone()
                            .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null))
                            .unwrap_or(Value::Null);
                        check(&value, &mut name.node.to_string())?;
                    }
                    in_set(&field.node.selection_set.node)?;
                }
                Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node)?,
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }
    match &document.operations {
        DocumentOperations::Single(op) => in_set(&op.node.selection_set.node)?,
        DocumentOperations::Multiple(ops) => {
            for op in ops.values() {
                in_set(&op.node.selection_set.node)?;
            }
        }
    }
    for fragment in document.fragments.values() {
        in_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn check(value: &Value, field: &mut String) -> Result<(), ServerError> {
    match value {
        Value::String(text) if text.len() > MAX_STRING_BYTES => Err(refuse(
            field,
            format!("{field} is longer than {MAX_STRING_BYTES} bytes"),
        )),
        Value::List(items) if items.len() > MAX_LIST_ITEMS => Err(refuse(
            field,
            format!("{field} has more than {MAX_LIST_ITEMS} items"),
        )),
        Value::List(items) => items.iter().try_for_each(|item| check(item, field)),
        Value::Object(fields) => {
            for (name, inner) in fields {
                let len = field.len();
                field.push('.');
                field.push_str(name);
                check(inner, field)?;
                field.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn refuse(field: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", "BAD_USER_INPUT");
    // The input field's own name, as services name theirs (`exclude`, not `input.options.exclude`).
    extensions.set("field", field.rsplit('.').next().unwrap_or(field));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_and_lists_are_refused_with_their_field() {
        let ok: Variables = serde_json::from_value(serde_json::json!({
            "input": { "options": { "exclude": ["*.tmp"] } }
        }))
        .unwrap();
        assert!(check_variables(&ok).is_ok());
        let long: Variables = serde_json::from_value(serde_json::json!({
            "input": { "login": "x".repeat(MAX_STRING_BYTES + 1) }
        }))
        .unwrap();
        let err = check_variables(&long).unwrap_err();
        let field = err.extensions.unwrap().get("field").cloned();
        assert_eq!(field, Some(Value::from("login")));
        let many: Variables = serde_json::from_value(serde_json::json!({
            "ids": vec!["a"; MAX_LIST_ITEMS + 1]
        }))
        .unwrap();
        assert!(check_variables(&many).is_err());
    }
}
