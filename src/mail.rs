//! Sending email: through SMTP when `SMTP_URL` is set, otherwise into the outbox table
//! (readable by administrators at /admin/outbox) and a log line.

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

pub enum Mailer {
    Outbox,
    Smtp { transport: Box<SmtpTransport>, from: Mailbox },
}

impl Mailer {
    /// `smtp_url` as lettre reads it, e.g. `smtps://user:pass@mail.example:465`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Mailer> {
        match smtp_url {
            None => Ok(Mailer::Outbox),
            Some(url) => {
                let transport =
                    SmtpTransport::from_url(url).map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?.build();
                let from = from.parse().map_err(|e| anyhow::anyhow!("the sender address {from:?}: {e}"))?;
                Ok(Mailer::Smtp { transport: Box::new(transport), from })
            }
        }
    }

    /// Sends one plain-text message through SMTP. Blocking: call on the blocking pool,
    /// holding no database connection. A failure is logged, not shown: the user sees
    /// the same answer either way. Does nothing for the outbox (see `AppState::send_mail`).
    pub fn send_smtp(&self, to: &str, subject: &str, body: &str) {
        let Mailer::Smtp { transport, from } = self else { return };
        let message = to.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|to| {
            Message::builder()
                .from(from.clone())
                .to(to)
                .subject(subject)
                .body(body.to_owned())
                .map_err(|e| e.to_string())
        });
        match message.map(|m| transport.send(&m).map_err(|e| e.to_string())) {
            Ok(Ok(_)) => tracing::info!(%to, %subject, "email sent"),
            Ok(Err(e)) | Err(e) => tracing::error!(%to, %subject, error = %e, "email not sent"),
        }
    }
}
