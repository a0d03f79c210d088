//! The caller's category rules: create, list, update, delete.

use chrono::Utc;
use entity::category_rules;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::{
    auth::validation,
    error::{AppError, AppResult},
    storage::paths,
};

pub const MAX_RULES: u64 = 200;
/// Extensions one rule may list.
pub const MAX_EXTENSIONS: usize = 100;

pub struct RuleInput {
    pub name: String,
    pub category: String,
    pub extensions: Vec<String>,
    pub name_glob: Option<String>,
    pub mime_prefix: Option<String>,
    pub min_size_bytes: Option<i64>,
    pub max_size_bytes: Option<i64>,
    pub priority: i32,
}

struct Checked {
    name: String,
    category: String,
    extensions: serde_json::Value,
    name_glob: Option<String>,
    mime_prefix: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    priority: i32,
}

fn check(input: RuleInput) -> AppResult<Checked> {
    let name = validation::required_text("name", &input.name, 100)?;
    let category = paths::file_name("category", input.category.trim())?;
    if category.starts_with('.') {
        return Err(AppError::bad_input(
            "category",
            "category must not start with '.'",
        ));
    }
    if input.extensions.len() > MAX_EXTENSIONS {
        return Err(AppError::bad_input(
            "extensions",
            format!("at most {MAX_EXTENSIONS} extensions per rule"),
        ));
    }
    let mut extensions = Vec::new();
    for ext in &input.extensions {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        if ext.is_empty()
            || ext.len() > 32
            || !ext
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(AppError::bad_input(
                "extensions",
                format!("not an extension: {ext:?}"),
            ));
        }
        extensions.push(ext);
    }
    let name_glob = validation::optional_text("nameGlob", input.name_glob.as_deref(), 200)?;
    if let Some(glob) = &name_glob {
        globset::Glob::new(glob)
            .map_err(|_| AppError::bad_input("nameGlob", "nameGlob is not a valid glob"))?;
    }
    let mime_prefix = validation::optional_text("mimePrefix", input.mime_prefix.as_deref(), 100)?
        .map(|m| m.to_ascii_lowercase());
    for (field, value) in [
        ("minSizeBytes", input.min_size_bytes),
        ("maxSizeBytes", input.max_size_bytes),
    ] {
        if value.is_some_and(|v| v < 0) {
            return Err(AppError::bad_input(
                field,
                format!("{field} must not be negative"),
            ));
        }
    }
    if let (Some(min), Some(max)) = (input.min_size_bytes, input.max_size_bytes)
        && min > max
    {
        return Err(AppError::bad_input(
            "minSizeBytes",
            "minSizeBytes is larger than maxSizeBytes",
        ));
    }
    if extensions.is_empty()
        && name_glob.is_none()
        && mime_prefix.is_none()
        && input.min_size_bytes.is_none()
        && input.max_size_bytes.is_none()
    {
        return Err(AppError::bad_input(
            "extensions",
            "a rule needs at least one condition",
        ));
    }
    Ok(Checked {
        name,
        category,
        extensions: serde_json::json!(extensions),
        name_glob,
        mime_prefix,
        min: input.min_size_bytes,
        max: input.max_size_bytes,
        priority: input.priority,
    })
}

pub async fn list(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Vec<category_rules::Model>> {
    Ok(category_rules::Entity::find()
        .filter(category_rules::Column::UserId.eq(user_id))
        .order_by_desc(category_rules::Column::Priority)
        .order_by_asc(category_rules::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn create(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    input: RuleInput,
) -> AppResult<category_rules::Model> {
    let c = check(input)?;
    let count = category_rules::Entity::find()
        .filter(category_rules::Column::UserId.eq(user_id))
        .count(db)
        .await?;
    if count >= MAX_RULES {
        return Err(AppError::Conflict(format!(
            "at most {MAX_RULES} rules per account"
        )));
    }
    let now = Utc::now();
    Ok(category_rules::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(c.name),
        category: Set(c.category),
        extensions: Set(c.extensions),
        name_glob: Set(c.name_glob),
        mime_prefix: Set(c.mime_prefix),
        min_size_bytes: Set(c.min),
        max_size_bytes: Set(c.max),
        priority: Set(c.priority),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

async fn owned(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<category_rules::Model> {
    category_rules::Entity::find_by_id(id)
        .filter(category_rules::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("category rule"))
}

pub async fn update(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    input: RuleInput,
) -> AppResult<category_rules::Model> {
    let c = check(input)?;
    let mut rule: category_rules::ActiveModel = owned(db, user_id, id).await?.into();
    rule.name = Set(c.name);
    rule.category = Set(c.category);
    rule.extensions = Set(c.extensions);
    rule.name_glob = Set(c.name_glob);
    rule.mime_prefix = Set(c.mime_prefix);
    rule.min_size_bytes = Set(c.min);
    rule.max_size_bytes = Set(c.max);
    rule.priority = Set(c.priority);
    rule.updated_at = Set(Utc::now());
    Ok(rule.update(db).await?)
}

pub async fn delete(db: &impl sea_orm::ConnectionTrait, user_id: Uuid, id: Uuid) -> AppResult<()> {
    let rule = owned(db, user_id, id).await?;
    category_rules::Entity::delete_by_id(rule.id)
        .exec(db)
        .await?;
    Ok(())
}
