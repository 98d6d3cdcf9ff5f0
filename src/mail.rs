//! Sending email: through SMTP when `SMTP_URL` is set, otherwise into the outbox table
//! (readable by administrators at /admin/outbox) and a log line.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

/// One message as the site composes it: a plain-text part always, an HTML alternative
/// and headers of its own (`Name: value`, e.g. `List-Unsubscribe`) when it has them.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Mail {
    /// The headers as the outbox keeps them: one `Name: value` a line.
    pub fn headers_text(&self) -> String {
        self.headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect()
    }

    /// Headers kept by `headers_text`, read back.
    pub fn parse_headers(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

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

    /// Sends `mail` (multipart when it has an HTML part, with its own headers) through
    /// SMTP. Blocking, like `send_smtp`; the error says why it was not sent.
    pub fn send_mail(&self, mail: &Mail) -> Result<(), String> {
        let Mailer::Smtp { transport, from } = self else { return Err("no SMTP server is configured".into()) };
        let to = mail.to.parse::<Mailbox>().map_err(|e| e.to_string())?;
        let mut builder = Message::builder().from(from.clone()).to(to).subject(&mail.subject);
        for (name, value) in &mail.headers {
            let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| e.to_string())?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        let message = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text.clone(), html.clone())),
            None => builder.body(mail.text.clone()),
        }
        .map_err(|e| e.to_string())?;
        transport.send(&message).map_err(|e| e.to_string())?;
        tracing::info!(to = %mail.to, subject = %mail.subject, "email sent");
        Ok(())
    }

    /// Whether mail goes out through SMTP (else it stays in the outbox).
    pub fn smtp(&self) -> bool {
        matches!(self, Mailer::Smtp { .. })
    }
}
