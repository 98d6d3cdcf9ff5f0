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
