//! Personal API tokens: what they allow (their scopes) and how they are made.
//!
//! A token is 256 random bits shown to its owner once, prefixed `aw_` so that a leaked
//! one is easy to recognise; the database keeps its SHA-256 only (`auth::token_hash`).

use std::fmt;

/// What a token may do. A browser session may do everything its account may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    /// Read what the account may read (its own votes, saved articles, held comments).
    pub read: bool,
    /// Write as the account: comment, reply, edit, delete, vote, save, report.
    pub write: bool,
    /// Moderate and administer, as far as the account's role allows.
    pub moderate: bool,
}

impl Scopes {
    pub const ALL: Scopes = Scopes { read: true, write: true, moderate: true };
    pub const NAMES: [&'static str; 3] = ["read", "write", "moderate"];

    /// Parses `read,write`: names from [`Scopes::NAMES`], at least one, separated by
    /// commas or spaces.
    pub fn parse(raw: &str) -> Result<Scopes, String> {
        let mut scopes = Scopes::default();
        for name in raw.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "read" => scopes.read = true,
                "write" => scopes.write = true,
                "moderate" => scopes.moderate = true,
                other => return Err(format!("{other:?} is not a scope: the scopes are read, write and moderate.")),
            }
        }
        if scopes == Scopes::default() {
            return Err("A token needs at least one scope: read, write or moderate.".to_owned());
        }
        Ok(scopes)
    }

    /// The names of the scopes held.
    pub fn names(self) -> Vec<&'static str> {
        let held = [self.read, self.write, self.moderate];
        Scopes::NAMES.iter().zip(held).filter(|(_, on)| *on).map(|(name, _)| *name).collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

/// The token a request came with: which one, and what it may do.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: i64,
    pub name: String,
    pub scopes: Scopes,
}

/// A new token: `aw_` and 256 random bits.
pub fn new_token() -> String {
    format!("aw_{}", super::random_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!(Scopes::parse("read").unwrap(), Scopes { read: true, ..Default::default() });
        assert_eq!(Scopes::parse("write, read moderate").unwrap(), Scopes::ALL);
        assert_eq!(Scopes::ALL.to_string(), "read,write,moderate");
        assert!(Scopes::parse("").is_err());
        assert!(Scopes::parse("admin").is_err());
        assert!(new_token().starts_with("aw_"));
        assert_eq!(new_token().len(), 46);
    }
}
