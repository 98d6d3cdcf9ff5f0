//! Password hashing (argon2id, OWASP's baseline parameters), bounded by a semaphore, and
//! the list of common passwords `domain::NewPassword` refuses.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    // m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a new hash with a random salt. Slow: call off the async workers.
pub fn hash(password: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any input").to_string()
}

/// Whether `password` matches the stored PHC string. Slow: call off the async workers.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time a real verification takes, for logins naming no account, so that
/// the answer does not reveal whether the account exists.
pub fn verify_dummy(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash("a password nobody has, only for timing"));
    let _ = verify(password, &DUMMY);
}

/// The gate in front of hashing and verifying: each argon2 run takes 19 MiB and a core
/// for a while, so at most `permits` run at once (twice the cores by default); a
/// request waits for one on the async workers for at most `wait`, then the site is
/// busy. The runs themselves go to the blocking threads.
#[derive(Debug, Clone)]
pub struct Hashers {
    permits: Arc<tokio::sync::Semaphore>,
    wait: Duration,
}

/// No hashing permit came free in time.
#[derive(Debug)]
pub struct Busy;

impl Hashers {
    pub fn new(permits: usize, wait: Duration) -> Self {
        Hashers { permits: Arc::new(tokio::sync::Semaphore::new(permits.max(1))), wait }
    }

    /// Twice the cores, waiting at most two seconds.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hashers::new(2 * cores, Duration::from_secs(2))
    }

    /// A permit, or `Busy` after the wait.
    pub async fn acquire(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Busy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Runs `work` (a hash or a verification) on a blocking thread under a permit.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = self.acquire().await?;
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        match out {
            Ok(out) => Ok(out),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Busy),
        }
    }
}

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// Whether `password` is one of the most common ones (in any case).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_baseline_parameters() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("x", "not a hash"));
        assert_ne!(phc, hash("correct horse battery"), "salted");
    }

    #[test]
    fn rules() {
        use crate::domain::NewPassword;
        let problem = |pw: &str, user: &str| NewPassword::parse(pw, user).err();
        assert!(problem("short", "ann").unwrap().contains("at least"));
        assert!(problem(&"x".repeat(257), "ann").unwrap().contains("at most"));
        assert!(problem(&"é".repeat(256), "ann").is_none(), "counted in characters");
        assert!(problem("1234567890", "ann").unwrap().contains("common"));
        assert!(problem("Password123", "ann").unwrap().contains("common"));
        assert!(problem("annabelle_x", "Annabelle_X").unwrap().contains("username"));
        assert!(problem("plum orchard at dusk", "ann").is_none());
        assert!(include_str!("common_passwords.txt").lines().count() >= 1000);
    }
}
