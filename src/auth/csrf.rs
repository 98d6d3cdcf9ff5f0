//! CSRF tokens: an HMAC of the visitor's session (or, before login, of a random
//! per-browser cookie) under a key kept in the database, so every instance agrees.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    pub fn new(key: Vec<u8>) -> Self {
        CsrfKey(key)
    }

    fn mac(&self, binding: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"afterword-csrf:");
        mac.update(binding.as_bytes());
        mac
    }

    /// The token for forms of the visitor identified by `binding`.
    pub fn token(&self, binding: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(binding).finalize().into_bytes())
    }

    /// A token that names `user` for a digest's unsubscribe link: the id and an HMAC
    /// of it under the site's key (nothing to store, nothing guessable; it works
    /// without logging in).
    pub fn unsubscribe_token(&self, user: i64) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"afterword-digest-unsubscribe:");
        mac.update(user.to_string().as_bytes());
        format!("{user}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The user an unsubscribe token names, if it is genuine (compared in constant time).
    pub fn unsubscribe_user(&self, token: &str) -> Option<i64> {
        let (id, presented) = token.split_once('.')?;
        let user: i64 = id.parse().ok().filter(|id| *id > 0)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(presented).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"afterword-digest-unsubscribe:");
        mac.update(user.to_string().as_bytes());
        mac.verify_slice(&bytes).ok().map(|_| user)
    }

    /// Compares in constant time.
    pub fn verify(&self, binding: &str, presented: &str) -> bool {
        match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(presented.trim()) {
            Ok(bytes) => self.mac(binding).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound() {
        let key = CsrfKey::new(vec![7; 32]);
        let t = key.token("session-a");
        assert!(key.verify("session-a", &t));
        assert!(!key.verify("session-b", &t));
        assert!(!key.verify("session-a", ""));
        assert!(!key.verify("session-a", "not base64!"));
        assert!(!CsrfKey::new(vec![8; 32]).verify("session-a", &t));
    }
}
