//! The words of each message, as plain text and as HTML (every value escaped).

use super::Mail;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn with_link(
    to: &str,
    subject: &str,
    lines: &[&str],
    action: &str,
    link: &str,
    after: &str,
) -> Mail {
    let text = format!("{}\n\n{action}:\n{link}\n\n{after}\n", lines.join("\n\n"));
    let paragraphs: String = lines
        .iter()
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect();
    let html = format!(
        "<!doctype html><html><body style=\"font-family: sans-serif\">{paragraphs}\
         <p><a href=\"{href}\">{action}</a></p><p style=\"color: #555\">{after}</p></body></html>",
        href = escape(link),
        action = escape(action),
        after = escape(after),
    );
    Mail {
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html,
        link: Some(link.to_string()),
    }
}

/// Proves an address: the account's own, or the one it asked to change to.
pub fn verify_email(to: &str, username: &str, link: &str, hours: i64) -> Mail {
    with_link(
        to,
        "Confirm your email address for Organizer",
        &[
            &format!("Hello {username},"),
            &format!("Please confirm that {to} is your address for Organizer."),
        ],
        "Confirm this address",
        link,
        &format!(
            "The link works once, for {hours} hours. If you did not ask for this, ignore this message."
        ),
    )
}

pub fn reset_password(to: &str, username: &str, link: &str, minutes: i64) -> Mail {
    with_link(
        to,
        "Reset your Organizer password",
        &[
            &format!("Hello {username},"),
            "Someone (we hope you) asked to reset the password of your Organizer account.",
        ],
        "Choose a new password",
        link,
        &format!(
            "The link works once, for {minutes} minutes, and signs you out everywhere. \
             If you did not ask for this, ignore this message: your password stays as it is."
        ),
    )
}

/// Told to the old address when the account asks to move to another.
pub fn email_change_requested(to: &str, username: &str, new_email: &str) -> Mail {
    let lines = [
        format!("Hello {username},"),
        format!(
            "Your Organizer account asked to change its email address to {new_email}. \
             It changes once that address is confirmed."
        ),
        "If this was not you, change your password now: someone else may be signed in.".to_string(),
    ];
    Mail {
        to: to.to_string(),
        subject: "Your Organizer email address is about to change".to_string(),
        text: format!("{}\n", lines.join("\n\n")),
        html: format!(
            "<!doctype html><html><body style=\"font-family: sans-serif\">{}</body></html>",
            lines
                .iter()
                .map(|l| format!("<p>{}</p>", escape(l)))
                .collect::<String>()
        ),
        link: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_parts_escape_what_people_typed() {
        let mail = verify_email("a@example.com", "<b>x</b>", "https://h/v?token=a&b", 24);
        assert!(mail.html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(mail.html.contains("href=\"https://h/v?token=a&amp;b\""));
        assert!(mail.text.contains("https://h/v?token=a&b"));
    }
}
