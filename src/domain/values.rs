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
}
