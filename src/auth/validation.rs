//! Checks on what people type at signup and elsewhere. Each failure names its field.

use crate::error::{AppError, AppResult};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// A trimmed, lower-cased email address, or `BAD_USER_INPUT`.
pub fn email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || !email_address::EmailAddress::is_valid(&email) || !email.contains('.') {
        return Err(AppError::bad_input("email", "email is not a valid address"));
    }
    Ok(email)
}

/// A lower-cased username of 3 to 32 letters, digits, `_` or `-`.
pub fn username(raw: &str) -> AppResult<String> {
    let username = raw.trim().to_lowercase();
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !(3..=32).contains(&username.len()) || !valid_chars {
        return Err(AppError::bad_input(
            "username",
            "username must be 3 to 32 characters: letters, digits, '_' or '-'",
        ));
    }
    Ok(username)
}

/// A password of 8 to 128 characters (counted as characters, not bytes).
pub fn password(raw: &str) -> AppResult<()> {
    let len = raw.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(AppError::bad_input(
            "password",
            format!("password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// Optional free text: trimmed, empty becomes `None`, at most `max` characters.
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> AppResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be at most {max} printable characters"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// Required free text: like [`optional_text`] but must not be empty.
pub fn required_text(field: &str, raw: &str, max: usize) -> AppResult<String> {
    optional_text(field, Some(raw), max)?
        .ok_or_else(|| AppError::bad_input(field, format!("{field} must not be empty")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "ada@localhost",
            "a b@example.com",
        ] {
            assert_eq!(field_of(email(bad).unwrap_err()), "email", "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email(&long).is_err());
    }

    #[test]
    fn usernames_follow_the_pattern() {
        assert_eq!(username("Ada_Lovelace-1").unwrap(), "ada_lovelace-1");
        assert_eq!(username("abc").unwrap(), "abc");
        assert_eq!(username(&"a".repeat(32)).unwrap(), "a".repeat(32));
        for bad in [
            "ab",
            "",
            "has space",
            "dot.name",
            "émile",
            &"a".repeat(33),
            "semi;colon",
        ] {
            assert_eq!(field_of(username(bad).unwrap_err()), "username", "{bad:?}");
        }
    }

    #[test]
    fn passwords_between_8_and_128_characters() {
        assert!(password("12345678").is_ok());
        assert!(password(&"é".repeat(128)).is_ok());
        assert_eq!(field_of(password("1234567").unwrap_err()), "password");
        assert_eq!(
            field_of(password(&"x".repeat(129)).unwrap_err()),
            "password"
        );
    }

    #[test]
    fn free_text_is_trimmed_and_bounded() {
        assert_eq!(
            optional_text("fullName", Some("  Ada  "), 10)
                .unwrap()
                .as_deref(),
            Some("Ada")
        );
        assert_eq!(optional_text("fullName", Some("   "), 10).unwrap(), None);
        assert!(optional_text("fullName", Some(&"x".repeat(11)), 10).is_err());
        assert!(optional_text("fullName", Some("bell\u{7}"), 10).is_err());
        assert!(required_text("name", " ", 10).is_err());
    }
}
