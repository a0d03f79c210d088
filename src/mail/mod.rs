//! Mail the server sends (verify an address, reset a password, notices). One outbox:
//! SMTP through `lettre` when `SMTP_URL` is set, otherwise `.eml` files in
//! `<data-dir>/outbox/` (the embedded default works with no mail server, and what was
//! sent can be read). Sending never holds up a request: each message is handed to a task
//! that tries again with growing pauses.

pub mod templates;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

use crate::config::Config;

/// A message to one person.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message carries, logged when it goes to the outbox folder (the
    /// embedded default: whoever runs the server reads it there).
    pub link: Option<String>,
}

/// Tries per message, and the pause before the first retry (doubled each time).
const TRIES: u32 = 6;
const FIRST_PAUSE: Duration = Duration::from_secs(2);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

pub struct Outbox {
    transport: Transport,
    from: Mailbox,
}

impl Outbox {
    pub fn from_config(config: &Config) -> anyhow::Result<Arc<Self>> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .with_context(|| format!("MAIL_FROM is not an address: {:?}", config.mail_from))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("SMTP_URL is not a usable smtp:// or smtps:// URL")?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
            None => Transport::Files(config.database.data_dir.join("outbox")),
        };
        Ok(Arc::new(Self { transport, from }))
    }

    pub fn kind(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Files(_) => "outbox folder",
        }
    }

    /// Sends in the background, retrying; failures are logged (without the address).
    pub fn send(self: &Arc<Self>, mail: Mail) {
        let outbox = self.clone();
        tokio::spawn(async move {
            let message = match outbox.message(&mail) {
                Ok(message) => message,
                Err(err) => {
                    tracing::error!(error = %format!("{err:#}"), subject = %mail.subject, "mail not built");
                    return;
                }
            };
            let mut pause = FIRST_PAUSE;
            for attempt in 1..=TRIES {
                match outbox.deliver(&message).await {
                    Ok(()) => {
                        metrics::counter!("organizer_mail_sent_total").increment(1);
                        if let (Transport::Files(_), Some(link)) = (&outbox.transport, &mail.link) {
                            tracing::info!(subject = %mail.subject, %link, "mail link");
                        }
                        return;
                    }
                    Err(err) if attempt < TRIES => {
                        tracing::warn!(error = %format!("{err:#}"), attempt, "mail not sent yet; trying again");
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                    Err(err) => {
                        metrics::counter!("organizer_mail_failed_total").increment(1);
                        tracing::error!(error = %format!("{err:#}"), subject = %mail.subject, "mail given up");
                    }
                }
            }
        });
    }

    fn message(&self, mail: &Mail) -> anyhow::Result<Message> {
        let to: Mailbox = mail.to.parse().context("recipient address")?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))?)
    }

    async fn deliver(&self, message: &Message) -> anyhow::Result<()> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message.clone()).await?;
            }
            Transport::Files(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                    uuid::Uuid::now_v7()
                );
                // Written aside, then renamed: a reader never sees half a message.
                let partial = dir.join(format!(".{name}.partial"));
                tokio::fs::write(&partial, message.formatted()).await?;
                tokio::fs::rename(&partial, dir.join(&name)).await?;
                tracing::info!(file = %dir.join(&name).display(), "mail written to the outbox");
            }
        }
        Ok(())
    }
}
