//! The one function that turns a user-supplied path into a path inside the user's
//! namespace. Every path in the API goes through [`normalize`].

use crate::error::{AppError, AppResult};

pub const MAX_SEGMENT_BYTES: usize = 255;
pub const MAX_PATH_BYTES: usize = 4096;

/// A clean relative path: segments joined by `/`, no empty, `.` or `..` segment, no
/// leading or trailing `/`; `""` is the namespace root. A leading `/` means the root of the
/// caller's own space, never the server's.
///
/// Refused (`BAD_USER_INPUT`): `..` anywhere, NUL and other control characters,
/// backslashes, segments over 255 bytes, paths over 4096 bytes.
pub fn normalize(field: &str, input: &str) -> AppResult<String> {
    let bad = |why: &str| AppError::bad_input(field, format!("{field} {why}"));
    if input.len() > MAX_PATH_BYTES {
        return Err(bad("is too long"));
    }
    if input.chars().any(char::is_control) {
        return Err(bad("contains a control character"));
    }
    if input.contains('\\') {
        return Err(bad("contains a backslash; use '/' between folders"));
    }
    let mut segments = Vec::new();
    for segment in input.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(bad("must not contain '..'")),
            s if s.len() > MAX_SEGMENT_BYTES => {
                return Err(bad("has a name longer than 255 bytes"));
            }
            s => segments.push(s),
        }
    }
    Ok(segments.join("/"))
}

/// A single file name (no `/`), as given in an upload.
pub fn file_name(field: &str, input: &str) -> AppResult<String> {
    let name = normalize(field, input)?;
    if name.is_empty() || name.contains('/') {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be a plain file name"),
        ));
    }
    Ok(name)
}

/// The deepest folder that holds every one of `paths` (`""`, the root, at worst).
pub fn common_folder<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for path in paths {
        let folder: Vec<&str> = parent(path).split('/').filter(|s| !s.is_empty()).collect();
        common = Some(match common {
            None => folder,
            Some(mut so_far) => {
                let same = so_far
                    .iter()
                    .zip(&folder)
                    .take_while(|(a, b)| a == b)
                    .count();
                so_far.truncate(same);
                so_far
            }
        });
    }
    common.unwrap_or_default().join("/")
}

/// `a/b` + `c` → `a/b/c`, with the root `""` as the identity.
pub fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}/{rest}"),
    }
}

/// The folder part of a clean path (`""` for a top-level name).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The last segment of a clean path.
pub fn name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// Whether `path` is `dir` or inside it (both clean).
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `photo.jpg` → (`photo`, `.jpg`); `archive.tar.gz` → (`archive.tar`, `.gz`);
/// `README` and `.env` → (the name, ``): a leading dot is part of the stem.
pub fn split_ext(file: &str) -> (&str, &str) {
    match file.rfind('.') {
        Some(i) if i > 0 => (&file[..i], &file[i..]),
        _ => (file, ""),
    }
}

/// `photo.jpg`, n → `photo (n).jpg`; `archive.tar.gz` → `archive.tar (n).gz`; `README` → `README (n)`.
/// A leading dot is part of the stem (`.env` → `.env (n)`). The stem is shortened (on a
/// character boundary) so the name stays within 255 bytes; an extension too long to
/// leave room for a stem counts as part of the stem.
pub fn numbered(path: &str, n: u32) -> String {
    let (dir, file) = (parent(path), name(path));
    let suffix = format!(" ({n})");
    let (mut stem, mut ext) = split_ext(file);
    if ext.len() + suffix.len() >= MAX_SEGMENT_BYTES {
        (stem, ext) = (file, "");
    }
    let room = MAX_SEGMENT_BYTES - suffix.len() - ext.len();
    if stem.len() > room {
        let mut cut = room;
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        stem = &stem[..cut];
    }
    join(dir, &format!("{stem}{suffix}{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cleans_harmless_forms() {
        assert_eq!(normalize("p", "").unwrap(), "");
        assert_eq!(normalize("p", "/").unwrap(), "");
        assert_eq!(
            normalize("p", "/photos//2024/./a b.jpg/").unwrap(),
            "photos/2024/a b.jpg"
        );
        assert_eq!(
            normalize("p", "Über/日本語.txt").unwrap(),
            "Über/日本語.txt"
        );
        assert_eq!(
            normalize("p", "...").unwrap(),
            "...",
            "three dots is a legal name"
        );
    }

    #[test]
    fn refuses_every_escape() {
        for attack in [
            "..",
            "../x",
            "a/../../etc/passwd",
            "a/..",
            "/../x",
            "a\\..\\b",
            "a\\b",
            "nul\0byte",
            "line\nbreak",
            "%00", // %00 is a literal name, allowed: checked below
        ] {
            if attack == "%00" {
                assert!(normalize("p", attack).is_ok());
                continue;
            }
            let err = normalize("path", attack).unwrap_err();
            assert!(
                matches!(err, AppError::BadUserInput { ref field, .. } if field == "path"),
                "{attack:?}"
            );
        }
        assert!(normalize("p", &"x".repeat(256)).is_err());
        assert!(normalize("p", &format!("{}/", "x/".repeat(2100))).is_err());
    }

    #[test]
    fn numbering_keeps_the_extension() {
        assert_eq!(numbered("a/photo.jpg", 1), "a/photo (1).jpg");
        assert_eq!(numbered("archive.tar.gz", 2), "archive.tar (2).gz");
        assert_eq!(numbered("d/README", 3), "d/README (3)");
        assert_eq!(numbered(".env", 1), ".env (1)");
        let long = numbered(&format!("d/{}.txt", "x".repeat(251)), 12);
        assert_eq!(name(&long).len(), 255);
        assert!(long.ends_with("x (12).txt"), "{long}");
        let long_ext = numbered(&format!("a.{}", "y".repeat(253)), 1);
        assert!(
            long_ext.len() <= 255 && long_ext.ends_with("y (1)"),
            "{long_ext}"
        );
    }

    #[test]
    fn within_is_by_segment() {
        assert!(is_within("a/b/c", "a/b"));
        assert!(is_within("a/b", "a/b"));
        assert!(!is_within("a/bc", "a/b"));
        assert!(is_within("anything", ""));
    }

    proptest! {
        #[test]
        fn normalized_paths_never_leave_the_namespace(input in "[a-z./\\\\\0 ]{0,40}") {
            if let Ok(path) = normalize("p", &input) {
                prop_assert!(!path.starts_with('/'));
                prop_assert!(!path.ends_with('/'));
                prop_assert!(!path.contains('\\') && !path.contains('\0'));
                for segment in path.split('/').filter(|_| !path.is_empty()) {
                    prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                }
                // Joined under a namespace, the path stays under it.
                let full = format!("users/u/{path}");
                prop_assert!(is_within(&full, "users/u"));
            }
        }

        #[test]
        fn normalizing_is_idempotent(input in "\\PC{0,60}") {
            if let Ok(once) = normalize("p", &input) {
                prop_assert_eq!(normalize("p", &once).unwrap(), once);
            }
        }

        #[test]
        fn any_dot_dot_segment_is_refused(prefix in "[a-z]{0,5}(/[a-z]{1,5}){0,3}", suffix in "(/[a-z]{1,5}){0,3}") {
            let input = format!("{prefix}/..{suffix}");
            prop_assert!(normalize("p", &input).is_err());
        }
    }
}
