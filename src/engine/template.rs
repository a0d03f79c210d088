//! Organize's destination template: `{category}`, `{year}`, `{month}` (of the file's
//! modified time) and `{ext}`, rendered per file into a folder below the root.

use chrono::{DateTime, Datelike, Utc};

use crate::{
    engine::categorize,
    error::{AppError, AppResult},
    storage::paths,
};

pub const DEFAULT: &str = "{category}";
const PLACEHOLDERS: [&str; 4] = ["{category}", "{year}", "{month}", "{ext}"];

/// Refuses unknown placeholders and templates that name no folder.
pub fn check(template: &str) -> AppResult<()> {
    let stripped = PLACEHOLDERS
        .iter()
        .fold(template.to_string(), |t, p| t.replace(p, "x"));
    if stripped.contains('{') || stripped.contains('}') {
        return Err(AppError::bad_input(
            "destinationTemplate",
            "known placeholders are {category}, {year}, {month} and {ext}",
        ));
    }
    let sample = render(template, "Images", Some(Utc::now()), "a.jpg");
    if paths::normalize("destinationTemplate", &sample)?.is_empty() {
        return Err(AppError::bad_input(
            "destinationTemplate",
            "destinationTemplate must name a folder",
        ));
    }
    Ok(())
}

/// `{category}/{year}` etc. for one file.
pub fn render(
    template: &str,
    category: &str,
    modified: Option<DateTime<Utc>>,
    name: &str,
) -> String {
    let (year, month) = modified.map_or(
        ("unknown-year".to_string(), "unknown-month".to_string()),
        |t| (format!("{:04}", t.year()), format!("{:02}", t.month())),
    );
    let ext = categorize::extension(name).unwrap_or_else(|| "no-extension".into());
    template
        .replace("{category}", category)
        .replace("{year}", &year)
        .replace("{month}", &month)
        .replace("{ext}", &ext)
}
