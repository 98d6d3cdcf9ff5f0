//! Rate limits (governor): per client address for every request, stricter per address
//! for login, sign-up and password reset, and per account for login attempts.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits; 0 turns a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    /// Requests per minute per client address, all requests.
    pub requests_per_minute: u32,
    /// Login, sign-up and password-reset attempts per minute per client address.
    pub auth_per_minute: u32,
    /// Login attempts per account per 15 minutes.
    pub logins_per_account: u32,
    /// Comments per account per minute and per day.
    pub comments_per_minute: u32,
    pub comments_per_day: u32,
    /// The same for accounts less than a day old.
    pub new_account_comments_per_minute: u32,
    pub new_account_comments_per_day: u32,
    /// Comment previews (Markdown renderings) per account per minute.
    pub previews_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            requests_per_minute: 1_200,
            auth_per_minute: 20,
            logins_per_account: 10,
            comments_per_minute: 5,
            comments_per_day: 200,
            new_account_comments_per_minute: 2,
            new_account_comments_per_day: 20,
            previews_per_minute: 30,
        }
    }
}

/// An account as the login limit knows it: lower-cased, at most 254 characters (longer
/// names no account has).
fn account_key(account: &str) -> String {
    account.trim().to_lowercase().chars().take(254).collect()
}

/// An IPv6 client is limited by its /64: one subscriber usually holds a whole /64.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
    }
}

impl RateLimitConfig {
    /// Comments a day for an account (0: no limit), counted in the database so that
    /// restarts and other instances do not reset it.
    pub fn daily_comments(&self, new_account: bool) -> u32 {
        if new_account {
            self.new_account_comments_per_day
        } else {
            self.comments_per_day
        }
    }

    /// Every limit off.
    pub fn off() -> Self {
        RateLimitConfig {
            requests_per_minute: 0,
            auth_per_minute: 0,
            logins_per_account: 0,
            comments_per_minute: 0,
            comments_per_day: 0,
            new_account_comments_per_minute: 0,
            new_account_comments_per_day: 0,
            previews_per_minute: 0,
        }
    }
}

pub struct Limits {
    requests: Option<DefaultKeyedRateLimiter<IpAddr>>,
    auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    logins: Option<DefaultKeyedRateLimiter<String>>,
    /// Accounts locked after too many failed logins, until when.
    locked: Mutex<HashMap<String, Instant>>,
    /// Per account: (per minute, per day), for established and for new accounts.
    comments: [Option<DefaultKeyedRateLimiter<i64>>; 4],
    /// Per account: comment previews.
    previews: Option<DefaultKeyedRateLimiter<i64>>,
}

/// `per` requests spread over `period`, all of them allowed at once.
fn limiter<K: Hash + Eq + Clone>(per: u32, period: Duration) -> Option<DefaultKeyedRateLimiter<K>> {
    let burst = NonZeroU32::new(per)?;
    let quota = Quota::with_period(period / per).expect("a non-zero period").allow_burst(burst);
    Some(RateLimiter::keyed(quota))
}

fn check<K: Hash + Eq + Clone>(limiter: &Option<DefaultKeyedRateLimiter<K>>, key: &K) -> Result<(), Duration> {
    match limiter {
        None => Ok(()),
        Some(l) => l.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
    }
}

impl Limits {
    pub fn new(config: RateLimitConfig) -> Self {
        Limits {
            requests: limiter(config.requests_per_minute, Duration::from_secs(60)),
            auth: limiter(config.auth_per_minute, Duration::from_secs(60)),
            logins: limiter(config.logins_per_account, Duration::from_secs(15 * 60)),
            locked: Mutex::new(HashMap::new()),
            comments: [
                limiter(config.comments_per_minute, Duration::from_secs(60)),
                limiter(config.comments_per_day, Duration::from_secs(24 * 3600)),
                limiter(config.new_account_comments_per_minute, Duration::from_secs(60)),
                limiter(config.new_account_comments_per_day, Duration::from_secs(24 * 3600)),
            ],
            previews: limiter(config.previews_per_minute, Duration::from_secs(60)),
        }
    }

    /// Every request. `Err` holds how long to wait.
    pub fn request(&self, ip: IpAddr) -> Result<(), Duration> {
        check(&self.requests, &network(ip))
    }

    /// Login, sign-up and password-reset submissions, and password re-checks.
    pub fn auth(&self, ip: IpAddr) -> Result<(), Duration> {
        check(&self.auth, &network(ip))
    }

    /// Whether an account is locked after too many failed logins; `Err` holds how long.
    /// Successful logins do not count.
    pub fn login_locked(&self, account: &str) -> Result<(), Duration> {
        let locked = self.locked.lock().unwrap_or_else(|e| e.into_inner());
        match locked.get(&account_key(account)) {
            Some(until) if *until > Instant::now() => Err(*until - Instant::now()),
            _ => Ok(()),
        }
    }

    /// Counts a failed login (or password re-check) for an account; past the limit the
    /// account is locked for the time the limit needs to allow one more.
    pub fn login_failed(&self, account: &str) -> Result<(), Duration> {
        let key = account_key(account);
        check(&self.logins, &key).inspect_err(|wait| {
            let mut locked = self.locked.lock().unwrap_or_else(|e| e.into_inner());
            locked.insert(key, Instant::now() + *wait);
        })
    }

    /// Posting a comment; accounts less than a day old get the lower limits.
    pub fn comment(&self, user_id: i64, new_account: bool) -> Result<(), Duration> {
        let [minute, day, new_minute, new_day] = &self.comments;
        let (minute, day) = if new_account { (new_minute, new_day) } else { (minute, day) };
        check(minute, &user_id)?;
        check(day, &user_id)
    }

    /// Previewing a comment (each preview renders Markdown).
    pub fn preview(&self, user_id: i64) -> Result<(), Duration> {
        check(&self.previews, &user_id)
    }

    /// Forgets keys whose limits have refilled; call now and then.
    pub fn retain_recent(&self) {
        for l in [&self.requests, &self.auth].into_iter().flatten() {
            l.retain_recent();
        }
        if let Some(l) = &self.logins {
            l.retain_recent();
        }
        let now = Instant::now();
        self.locked.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, until| *until > now);
        for l in self.comments.iter().chain([&self.previews]).flatten() {
            l.retain_recent();
        }
    }
}
