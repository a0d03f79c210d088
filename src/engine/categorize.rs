//! Choosing a file's category: the caller's rules first (highest priority first), then
//! the built-in table by extension, then content sniffing for unknown extensions.

use anyhow::Context;
use entity::category_rules;
use globset::{Glob, GlobMatcher};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::storage::{FileMeta, UserSpace, paths};

pub const OTHER: &str = "Other";

const BUILT_IN: &[(&str, &[&str])] = &[
    (
        "Images",
        &[
            "jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "svg", "heic", "heif",
            "avif", "ico", "raw", "cr2", "nef", "arw", "dng",
        ],
    ),
    (
        "Videos",
        &[
            "mp4", "mkv", "avi", "mov", "wmv", "flv", "webm", "m4v", "mpg", "mpeg", "3gp",
        ],
    ),
    (
        "Audio",
        &[
            "mp3", "wav", "flac", "aac", "ogg", "oga", "m4a", "wma", "opus", "aiff", "mid", "midi",
        ],
    ),
    (
        "Documents",
        &[
            "pdf", "doc", "docx", "odt", "rtf", "txt", "md", "tex", "epub", "pages",
        ],
    ),
    (
        "Spreadsheets",
        &["xls", "xlsx", "ods", "csv", "tsv", "numbers"],
    ),
    ("Presentations", &["ppt", "pptx", "odp", "key"]),
    (
        "Archives",
        &[
            "zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst", "iso", "dmg",
        ],
    ),
    (
        "Code",
        &[
            "rs", "py", "js", "ts", "jsx", "tsx", "java", "c", "h", "cpp", "hpp", "cs", "go", "rb",
            "php", "swift", "kt", "sh", "html", "css", "json", "yaml", "yml", "toml", "xml", "sql",
        ],
    ),
    ("Fonts", &["ttf", "otf", "woff", "woff2"]),
];

/// Lower-case extension without the dot, if the name has one (`.bashrc` has none).
pub fn extension(name: &str) -> Option<String> {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => Some(name[i + 1..].to_ascii_lowercase()),
        _ => None,
    }
}

pub fn by_extension(ext: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(_, exts)| exts.contains(&ext))
        .map(|(category, _)| *category)
}

/// The MIME type that the first bytes of a file show, if any.
pub fn sniff_mime(head: &[u8]) -> Option<String> {
    if let Some(kind) = infer::get(head) {
        return Some(kind.mime_type().to_string());
    }
    (!head.is_empty() && std::str::from_utf8(head).is_ok()).then(|| "text/plain".to_string())
}

fn by_mime(mime: &str) -> &'static str {
    let prefix_map = [
        ("image/", "Images"),
        ("video/", "Videos"),
        ("audio/", "Audio"),
        ("font/", "Fonts"),
        ("application/pdf", "Documents"),
        ("text/", "Documents"),
        ("application/zip", "Archives"),
        ("application/gzip", "Archives"),
        ("application/x-tar", "Archives"),
        ("application/x-7z", "Archives"),
        ("application/vnd.rar", "Archives"),
        ("application/x-bzip2", "Archives"),
        ("application/x-xz", "Archives"),
        ("application/zstd", "Archives"),
    ];
    prefix_map
        .iter()
        .find(|(prefix, _)| mime.starts_with(prefix))
        .map_or(OTHER, |(_, c)| c)
}

/// A user's rule, compiled.
pub struct Rule {
    pub category: String,
    extensions: Vec<String>,
    glob: Option<GlobMatcher>,
    mime_prefix: Option<String>,
    min_size: Option<u64>,
    max_size: Option<u64>,
}

impl Rule {
    pub fn compile(model: &category_rules::Model) -> Option<Self> {
        let extensions =
            serde_json::from_value::<Vec<String>>(model.extensions.clone()).unwrap_or_default();
        let glob = match &model.name_glob {
            Some(pattern) => Some(Glob::new(pattern).ok()?.compile_matcher()),
            None => None,
        };
        Some(Self {
            category: model.category.clone(),
            extensions,
            glob,
            mime_prefix: model.mime_prefix.clone(),
            min_size: model.min_size_bytes.map(|v| v.max(0) as u64),
            max_size: model.max_size_bytes.map(|v| v.max(0) as u64),
        })
    }

    pub fn needs_mime(&self) -> bool {
        self.mime_prefix.is_some()
    }

    /// Every condition the rule has must hold.
    fn matches(&self, name: &str, ext: Option<&str>, size: u64, mime: Option<&str>) -> bool {
        (self.extensions.is_empty() || ext.is_some_and(|e| self.extensions.iter().any(|x| x == e)))
            && self.glob.as_ref().is_none_or(|g| g.is_match(name))
            && self
                .mime_prefix
                .as_ref()
                .is_none_or(|p| mime.is_some_and(|m| m.starts_with(p.as_str())))
            && self.min_size.is_none_or(|min| size >= min)
            && self.max_size.is_none_or(|max| size <= max)
    }
}

/// The rules of one user (already in priority order) plus the defaults.
pub struct Categorizer {
    rules: Vec<Rule>,
}

/// Bytes read to sniff a file's type.
pub const HEAD_BYTES: u64 = 8 * 1024;

impl Categorizer {
    pub fn new(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// A user's categorizer: their rules, highest priority first, over the defaults.
    pub async fn load(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<Self> {
        let rules = category_rules::Entity::find()
            .filter(category_rules::Column::UserId.eq(user_id))
            .order_by_desc(category_rules::Column::Priority)
            .order_by_asc(category_rules::Column::CreatedAt)
            .all(db)
            .await
            .context("load the category rules")?;
        Ok(Self::new(rules.iter().filter_map(Rule::compile).collect()))
    }

    /// The category of a stored file, reading its first bytes when the name is not enough.
    /// A file whose first bytes cannot be read is categorized by name alone.
    pub async fn categorize_file(&self, space: &UserSpace, file: &FileMeta) -> String {
        let name = paths::name(&file.path);
        let head = if self.wants_head(name) {
            space
                .read_head(&file.path, file.size, HEAD_BYTES)
                .await
                .ok()
        } else {
            None
        };
        self.categorize(name, file.size, head.as_deref())
    }

    /// Whether `categorize` wants the file's first bytes for this name.
    pub fn wants_head(&self, name: &str) -> bool {
        self.rules.iter().any(Rule::needs_mime)
            || extension(name).and_then(|e| by_extension(&e)).is_none()
    }

    pub fn categorize(&self, name: &str, size: u64, head: Option<&[u8]>) -> String {
        let ext = extension(name);
        let mime = head.and_then(sniff_mime);
        if let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.matches(name, ext.as_deref(), size, mime.as_deref()))
        {
            return rule.category.clone();
        }
        if let Some(category) = ext.as_deref().and_then(by_extension) {
            return category.to_string();
        }
        mime.as_deref().map_or(OTHER, by_mime).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, exts: &[&str], glob: Option<&str>, min: Option<i64>) -> Rule {
        let now = chrono::Utc::now();
        Rule::compile(&category_rules::Model {
            id: uuid::Uuid::now_v7(),
            user_id: uuid::Uuid::now_v7(),
            name: "r".into(),
            category: category.into(),
            extensions: serde_json::json!(exts),
            name_glob: glob.map(String::from),
            mime_prefix: None,
            min_size_bytes: min,
            max_size_bytes: None,
            priority: 0,
            created_at: now,
            updated_at: now,
        })
        .unwrap()
    }

    #[test]
    fn defaults_by_extension_in_any_case() {
        let c = Categorizer::new(vec![]);
        assert_eq!(c.categorize("IMG_1.JPG", 10, None), "Images");
        assert_eq!(c.categorize("report.pdf", 10, None), "Documents");
        assert_eq!(c.categorize("a.tar.gz", 10, None), "Archives");
        assert_eq!(c.categorize("weird.xyz", 10, None), OTHER);
    }

    #[test]
    fn unknown_extensions_are_sniffed() {
        let c = Categorizer::new(vec![]);
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ];
        assert!(c.wants_head("photo"));
        assert_eq!(c.categorize("photo", 12, Some(&png)), "Images");
        assert_eq!(c.categorize("notes", 5, Some(b"hello")), "Documents");
        assert!(!c.wants_head("photo.png"));
    }

    #[test]
    fn user_rules_win_over_defaults() {
        let c = Categorizer::new(vec![
            rule("Scans", &["pdf"], Some("scan_*"), None),
            rule("Big", &[], None, Some(1000)),
        ]);
        assert_eq!(c.categorize("scan_001.pdf", 10, None), "Scans");
        assert_eq!(c.categorize("paper.pdf", 10, None), "Documents");
        assert_eq!(c.categorize("paper.pdf", 5000, None), "Big");
    }
}
