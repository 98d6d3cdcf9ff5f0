//! Values that exist only once parsed: holding a `CommentBody` means the text was
//! checked, so nothing downstream checks it again. `parse` says what is wrong in a
//! sentence the reader can act on.

use std::fmt;

/// The Markdown source of a comment: trimmed, not empty nor made only of invisible
/// characters, at most [`CommentBody::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> Result<CommentBody, String> {
        let body = raw.trim();
        let len = body.chars().count();
        if len == 0 || crate::text::is_blank(body) {
            return Err("Write something first: an empty comment cannot be posted.".into());
        }
        if len > Self::MAX_CHARS {
            return Err(format!("That is {len} characters; a comment may have at most {}.", Self::MAX_CHARS));
        }
        Ok(CommentBody(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommentBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a moderator acted (removed, banned, closed comments): shown to the person
/// concerned and in the public log. Whitespace runs become one space; not blank; at
/// most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModReason(String);

impl ModReason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<ModReason, String> {
        let reason = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if crate::text::is_blank(&reason) {
            return Err("Give a reason.".into());
        }
        if reason.chars().count() > Self::MAX_CHARS {
            return Err(format!("A reason has at most {} characters.", Self::MAX_CHARS));
        }
        Ok(ModReason(reason))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a ban lasts: "1d", "7d", "30d" or "permanent".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanLength {
    Days(i64),
    Permanent,
}

impl BanLength {
    pub fn parse(raw: &str) -> Result<BanLength, String> {
        match raw {
            "1d" => Ok(BanLength::Days(1)),
            "7d" => Ok(BanLength::Days(7)),
            "30d" => Ok(BanLength::Days(30)),
            "permanent" => Ok(BanLength::Permanent),
            other => Err(format!("A ban lasts 1d, 7d, 30d or permanent, not {other:?}.")),
        }
    }

    /// When a ban of this length that starts `now` ends (year 9999 for good).
    pub fn until(self, now: time::PrimitiveDateTime) -> time::PrimitiveDateTime {
        match self {
            BanLength::Days(days) => now + time::Duration::days(days),
            BanLength::Permanent => FOREVER,
        }
    }
}

/// The end of a permanent ban.
pub const FOREVER: time::PrimitiveDateTime =
    time::PrimitiveDateTime::new(time::macros::date!(9999 - 12 - 31), time::Time::MIDNIGHT);

/// Names nobody may sign up with (compared in lower case): they would pass for the
/// site, its staff or a system address.
pub const RESERVED_USERNAMES: &[&str] = &[
    "abuse",
    "admin",
    "administrator",
    "admins",
    "afterword",
    "anonymous",
    "api",
    "bot",
    "contact",
    "everyone",
    "guest",
    "help",
    "hostmaster",
    "info",
    "mailer-daemon",
    "mod",
    "moderator",
    "moderators",
    "mods",
    "no-reply",
    "noc",
    "noreply",
    "none",
    "null",
    "official",
    "operator",
    "owner",
    "postmaster",
    "root",
    "security",
    "staff",
    "support",
    "sysadmin",
    "system",
    "team",
    "undefined",
    "webmaster",
    "www",
];

/// An account's name: 3 to 30 letters, digits, `_` or `-`; not reserved, and not
/// "deleted…" (the names deleted accounts show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(3..=30).contains(&len) {
            return Err("Use 3 to 30 characters.".into());
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err("Use only letters, digits, '_' and '-'.".into());
        }
        let lower = name.to_lowercase();
        if lower.starts_with("deleted") || lower.starts_with("imported") || RESERVED_USERNAMES.contains(&lower.as_str())
        {
            return Err("That username is reserved.".into());
        }
        Ok(Username(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address that can be written to: at most 254 bytes, as RFC 5321 allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            return Err("Enter a valid email address, like name@example.com.".into());
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password chosen for the account `username`: 10 to 256 characters, not the
/// username, not one of the most common passwords. Kept as typed (never trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str, username: &str) -> Result<NewPassword, String> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(format!("Use at least {} characters.", Self::MIN_CHARS));
        }
        if len > Self::MAX_CHARS {
            return Err(format!("Use at most {} characters.", Self::MAX_CHARS));
        }
        if raw.to_lowercase() == username.to_lowercase() {
            return Err("The password must not be your username.".into());
        }
        if crate::auth::password::is_common(raw) {
            return Err("That is one of the most common passwords; choose another.".into());
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// An article's address: lower-case letters, digits and single inner hyphens, at most
/// [`Slug::MAX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 80;

    pub fn parse(raw: &str) -> Option<Slug> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        valid.then(|| Slug(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name a reader shows beside their username: whitespace runs become one space; at
/// most 50 characters; empty (none) or with at least one visible character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(Option<String>);

impl DisplayName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<DisplayName, String> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Ok(DisplayName(None));
        }
        if crate::text::is_blank(&name) {
            return Err("A display name needs at least one visible character (or leave it empty).".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("A display name has at most {} characters.", Self::MAX_CHARS));
        }
        Ok(DisplayName(Some(name)))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The Markdown a reader tells about themself on their profile: trimmed; at most 500
/// characters; empty (none) or with at least one visible character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(Option<String>);

impl Bio {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Bio, String> {
        let bio = raw.trim();
        if bio.is_empty() {
            return Ok(Bio(None));
        }
        if crate::text::is_blank(bio) {
            return Err("A bio needs at least one visible character (or leave it empty).".into());
        }
        if bio.chars().count() > Self::MAX_CHARS {
            return Err(format!("A bio has at most {} characters.", Self::MAX_CHARS));
        }
        Ok(Bio(Some(bio.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// A reader's report: what is wrong, and in a few words why (needed for "other";
/// whitespace runs become one space; at most 500 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub reason: super::ReportReason,
    pub details: Option<String>,
}

impl Report {
    pub const MAX_DETAILS: usize = 500;

    pub fn parse(reason: &str, details: Option<&str>) -> Result<Report, String> {
        let details =
            details.map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|d| !crate::text::is_blank(d));
        let reason =
            reason.parse::<super::ReportReason>().map_err(|_| "Choose what is wrong with the comment.".to_owned())?;
        if reason == super::ReportReason::Other && details.is_none() {
            return Err("Say in a few words what is wrong.".into());
        }
        if details.as_ref().is_some_and(|d| d.chars().count() > Self::MAX_DETAILS) {
            return Err(format!("The details have at most {} characters.", Self::MAX_DETAILS));
        }
        Ok(Report { reason, details })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_body_is_trimmed_and_bounded() {
        assert_eq!(CommentBody::parse("  hello \n").unwrap().as_str(), "hello");
        assert!(CommentBody::parse("   ").unwrap_err().contains("Write something"));
        assert!(CommentBody::parse("\u{200b}\u{202e}").unwrap_err().contains("Write something"));
        assert!(CommentBody::parse(&"x".repeat(10_000)).is_ok());
        assert!(CommentBody::parse(&"é".repeat(10_001)).unwrap_err().contains("10001 characters"));
    }

    #[test]
    fn usernames_and_emails() {
        assert!(Username::parse("ann").is_ok());
        assert!(Username::parse("A_b-9").is_ok());
        assert!(Username::parse("an").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("ann smith").is_err());
        assert!(Username::parse("ännа").is_err());
        assert!(Username::parse("Deleted-3").is_err());
        for reserved in
            ["admin", "Administrator", "MOD", "moderator", "root", "Support", "system", "staff", "afterword"]
        {
            assert_eq!(Username::parse(reserved).unwrap_err(), "That username is reserved.", "{reserved}");
        }
        assert!(Username::parse("admiral").is_ok());
        assert!(Email::parse("ann@example.com").is_ok());
        assert!(Email::parse("ann@").is_err());
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_slugs_and_display_names() {
        assert!(NewPassword::parse("correct horse", "ann").is_ok());
        assert!(NewPassword::parse("short", "ann").unwrap_err().contains("at least 10"));
        assert!(NewPassword::parse("annabelle12", "Annabelle12").unwrap_err().contains("username"));
        assert!(NewPassword::parse("password123", "ann").unwrap_err().contains("common"));
        assert_eq!(format!("{:?}", NewPassword::parse("correct horse", "ann").unwrap()), "NewPassword(..)");
        assert!(Slug::parse("a-good-slug-2").is_some());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "é"] {
            assert!(Slug::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(DisplayName::parse("  Ann   Smith ").unwrap().as_deref(), Some("Ann Smith"));
        assert_eq!(DisplayName::parse("   ").unwrap().as_deref(), None);
        assert!(DisplayName::parse("\u{200b}").is_err());
        assert!(DisplayName::parse(&"x".repeat(51)).is_err());
        assert_eq!(Bio::parse("  *hi*  ").unwrap().as_deref(), Some("*hi*"));
        assert_eq!(Bio::parse("").unwrap().as_deref(), None);
        assert!(Bio::parse("\u{200b}").is_err());
        assert!(Bio::parse(&"x".repeat(501)).unwrap_err().contains("500"));
    }

    #[test]
    fn reports_say_what_is_wrong() {
        let spam = Report::parse("spam", Some("  buy   now ")).unwrap();
        assert_eq!((spam.reason, spam.details.as_deref()), (super::super::ReportReason::Spam, Some("buy now")));
        assert!(Report::parse("nonsense", None).unwrap_err().contains("Choose"));
        assert!(Report::parse("other", Some(" \u{200b} ")).unwrap_err().contains("few words"));
        assert!(Report::parse("other", Some(&"x".repeat(501))).unwrap_err().contains("500"));
    }

    #[test]
    fn moderators_reasons_and_ban_lengths() {
        assert_eq!(ModReason::parse("  spam \n  links ").unwrap().as_str(), "spam links");
        assert_eq!(ModReason::parse(" \u{200b} ").unwrap_err(), "Give a reason.");
        assert!(ModReason::parse(&"x".repeat(501)).is_err());
        let now = time::macros::datetime!(2026-12-01 12:00);
        assert_eq!(BanLength::parse("7d").unwrap().until(now), time::macros::datetime!(2026-12-08 12:00));
        assert_eq!(BanLength::parse("permanent").unwrap().until(now), FOREVER);
        assert!(BanLength::parse("2d").unwrap_err().contains("not \"2d\""));
    }
}
