//! # scaikey-mail
//!
//! ScaiKey's outbound mail adapter: implements the app's [`Mailer`] port. [`SmtpMailer`] queues
//! each mail and a background task delivers it over SMTP with `lettre` (`smtp://` upgrades with
//! STARTTLS when the server offers it, `smtps://` is TLS from the first byte; both verify the
//! server against the webpki roots), retrying a failed delivery a few times. [`LogMailer`] is the
//! development fallback when no SMTP server is configured: it writes the mail, link included, to
//! the log. It decides no rule: what is mailed, to whom and when is the app's.
//!
//! May depend on the app crate (for the port), lettre, tokio and tracing; never on another adapter.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use scaikey_app::ports::mail::{Mail, Mailer};
use tokio::sync::mpsc;

/// Mails waiting for delivery at most; beyond it `send` refuses (and the app logs it).
const QUEUE: usize = 1_000;
/// Delivery attempts per mail, and the pause before each retry.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(10)];
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Delivers mail over SMTP from a queue.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    queue: mpsc::Sender<Mail>,
}

/// `smtp://` URLs without a `tls` parameter get `tls=opportunistic` (STARTTLS when offered).
fn connection_url(url: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url).map_err(|e| anyhow::anyhow!("SCAIKEY_SMTP_URL is not a URL: {e}"))?;
    match u.scheme() {
        "smtp" if !u.query_pairs().any(|(k, _)| k == "tls") => {
            u.query_pairs_mut().append_pair("tls", "opportunistic");
        }
        "smtp" | "smtps" => {}
        other => anyhow::bail!("SCAIKEY_SMTP_URL must start with smtp:// or smtps://, not {other}://"),
    }
    Ok(u.to_string())
}

impl SmtpMailer {
    /// Checks the settings and starts the delivery task on the current tokio runtime.
    ///
    /// # Errors
    /// A URL that is not `smtp://` or `smtps://`, or a sender that is not a mail address.
    pub fn start(url: &str, from: &str) -> anyhow::Result<SmtpMailer> {
        let from: Mailbox =
            from.parse().map_err(|e| anyhow::anyhow!("SCAIKEY_SMTP_FROM is not a mail address ({from}): {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&connection_url(url)?)
            .map_err(|e| anyhow::anyhow!("SCAIKEY_SMTP_URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(deliver(transport, from, rx));
        Ok(SmtpMailer { queue })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> anyhow::Result<()> {
        self.queue.try_send(mail).map_err(|e| anyhow::anyhow!("mail queue: {e}"))
    }
}

fn message(from: &Mailbox, mail: &Mail) -> anyhow::Result<Message> {
    let to: Mailbox = mail.to.parse().map_err(|e| anyhow::anyhow!("recipient: {e}"))?;
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())?)
}

async fn deliver(transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox, mut rx: mpsc::Receiver<Mail>) {
    while let Some(mail) = rx.recv().await {
        let msg = match message(&from, &mail) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "mail not built");
                continue;
            }
        };
        let mut pauses = RETRY_PAUSES.iter();
        loop {
            match transport.send(msg.clone()).await {
                Ok(_) => {
                    tracing::info!(subject = %mail.subject, "mail delivered");
                    break;
                }
                Err(e) => match pauses.next() {
                    Some(p) => {
                        tracing::warn!(error = %e, "mail delivery failed; retrying");
                        tokio::time::sleep(*p).await;
                    }
                    None => {
                        tracing::error!(error = %e, subject = %mail.subject, "mail not delivered");
                        break;
                    }
                },
            }
        }
    }
}

/// Development without an SMTP server: each mail goes to the log instead, so its link can be
/// followed. Never used in production (the settings refuse it).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

impl Mailer for LogMailer {
    fn send(&self, mail: Mail) -> anyhow::Result<()> {
        tracing::info!(to = %mail.to, subject = %mail.subject, text = %mail.text, "mail (not sent: no SCAIKEY_SMTP_URL)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_ask_for_starttls_unless_told() {
        assert_eq!(
            connection_url("smtp://mail.example.com:2525").unwrap(),
            "smtp://mail.example.com:2525?tls=opportunistic"
        );
        assert_eq!(
            connection_url("smtp://u:p@mail.example.com?tls=required").unwrap(),
            "smtp://u:p@mail.example.com?tls=required"
        );
        assert_eq!(connection_url("smtps://mail.example.com").unwrap(), "smtps://mail.example.com");
        assert!(connection_url("http://mail.example.com").is_err());
        assert!(connection_url("not a url").is_err());
    }

    #[tokio::test]
    async fn bad_settings_are_refused_at_start() {
        assert!(SmtpMailer::start("smtp://127.0.0.1:2525", "not an address").is_err());
        assert!(SmtpMailer::start("ftp://127.0.0.1", "id@example.com").is_err());
        let m = SmtpMailer::start("smtp://127.0.0.1:9", "ScaiKey <id@example.com>").unwrap();
        m.send(Mail { to: "a@example.com".into(), subject: "s".into(), text: "t".into() }).unwrap();
    }
}
