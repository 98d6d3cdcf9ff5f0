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
