//! Rate limits. In this process (governor): per client address for every request,
//! stricter per address for login, sign-up and password reset, and comment previews per
//! account. The rules of the limits counted in the database, so that every instance
//! and every restart sees the same counts: the login lockout (`db::logins`) and the
//! comments an account may post (`db::comments::PostingLimits`).
//!
//! The limits kept here protect the process that enforces them (its CPU, its
//! connections): with several instances behind a load balancer each enforces its own,
//! which is what they are for. A preview renders Markdown on the instance that serves
//! it and stores nothing, so counting previews in the database would add a write per
//! preview to protect a resource that is not shared.

use crate::domain::UserId;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::db::comments::PostingLimits;
use crate::db::logins::Failures;

/// Limits; 0 turns a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    /// Requests per minute per client address, all requests.
    pub requests_per_minute: u32,
    /// Login, sign-up and password-reset attempts per minute per client address.
    pub auth_per_minute: u32,
    /// Failed logins (and password re-checks) per account from one network in
    /// `LOGIN_WINDOW`, after which that network is refused for that account; five
    /// times as many from one network on any accounts refuse it for every login; past
    /// twice as many on one account from all networks, each attempt on it is delayed.
    /// Counted in the database (see `login_verdict`).
    pub logins_per_account: u32,
    /// Comments per account per minute and per day (counted in the database).
    pub comments_per_minute: u32,
    pub comments_per_day: u32,
    /// The same for accounts less than a day old.
    pub new_account_comments_per_minute: u32,
    pub new_account_comments_per_day: u32,
    /// Comment previews (Markdown renderings) per account per minute, in each process.
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

/// The client network as the login lockout stores it: the address, or an IPv6 /64.
pub fn network_key(ip: IpAddr) -> String {
    network(ip).to_string()
}

/// How far back failed logins count.
pub const LOGIN_WINDOW: time::Duration = time::Duration::minutes(15);
/// The longest a login on a much-attacked account is delayed.
const MAX_LOGIN_DELAY: Duration = Duration::from_secs(2);

/// What to do with a login attempt, given the recent failures.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginVerdict {
    /// Go ahead.
    Go,
    /// Go ahead after this delay: the account has many failures from everywhere.
    Delay(Duration),
    /// This network has too many failures (on this account, or on all); retry after.
    Refused(Duration),
}

impl RateLimitConfig {
    /// The verdict on a login (or password re-check) given the failures of the last
    /// `LOGIN_WINDOW`; `now` as stored in the database.
    pub fn login_verdict(&self, failures: &Failures, now: time::PrimitiveDateTime) -> LoginVerdict {
        let limit = i64::from(self.logins_per_account);
        if limit == 0 {
            return LoginVerdict::Go;
        }
        let wait = |oldest: Option<time::PrimitiveDateTime>| {
            let left = oldest.map_or(LOGIN_WINDOW, |oldest| oldest + LOGIN_WINDOW - now);
            Duration::try_from(left).unwrap_or_default().max(Duration::from_secs(1))
        };
        if failures.network >= 5 * limit {
            return LoginVerdict::Refused(wait(failures.network_oldest));
        }
        if failures.account_network >= limit {
            return LoginVerdict::Refused(wait(failures.account_network_oldest));
        }
        let past = failures.account - 2 * limit;
        if past >= 0 {
            let steps = u32::try_from(past + 1).unwrap_or(u32::MAX);
            return LoginVerdict::Delay((Duration::from_millis(100).saturating_mul(steps)).min(MAX_LOGIN_DELAY));
        }
        LoginVerdict::Go
    }

    /// The comments an account may post a minute and a day (0: no limit); accounts
    /// less than a day old get the lower limits. Counted in the database, so that
    /// restarts and other instances do not reset them.
    pub fn posting_limits(&self, new_account: bool) -> PostingLimits {
        if new_account {
            PostingLimits {
                per_minute: self.new_account_comments_per_minute,
                per_day: self.new_account_comments_per_day,
            }
        } else {
            PostingLimits { per_minute: self.comments_per_minute, per_day: self.comments_per_day }
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
    /// Per account: comment previews.
    previews: Option<DefaultKeyedRateLimiter<UserId>>,
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

    /// Previewing a comment (each preview renders Markdown).
    pub fn preview(&self, user_id: UserId) -> Result<(), Duration> {
        check(&self.previews, &user_id)
    }

    /// Forgets keys whose limits have refilled; call now and then.
    pub fn retain_recent(&self) {
        for l in [&self.requests, &self.auth].into_iter().flatten() {
            l.retain_recent();
        }
        if let Some(l) = &self.previews {
            l.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_verdicts() {
        let config = RateLimitConfig { logins_per_account: 10, ..RateLimitConfig::off() };
        let now = crate::db::now();
        let verdict = |f: Failures| config.login_verdict(&f, now);
        assert_eq!(verdict(Failures::default()), LoginVerdict::Go);
        let ago = |minutes| Some(now - time::Duration::minutes(minutes));
        let pair = Failures {
            account_network: 10,
            account_network_oldest: ago(5),
            network: 10,
            account: 10,
            ..Failures::default()
        };
        assert_eq!(verdict(pair), LoginVerdict::Refused(Duration::from_secs(600)));
        let network = Failures { network: 50, network_oldest: ago(14), ..Failures::default() };
        assert_eq!(verdict(network), LoginVerdict::Refused(Duration::from_secs(60)));
        assert_eq!(verdict(Failures { network: 49, ..Failures::default() }), LoginVerdict::Go);
        // Many failures on the account from elsewhere: delayed, not refused, capped.
        assert_eq!(verdict(Failures { account: 19, ..Failures::default() }), LoginVerdict::Go);
        assert_eq!(
            verdict(Failures { account: 20, ..Failures::default() }),
            LoginVerdict::Delay(Duration::from_millis(100))
        );
        assert_eq!(verdict(Failures { account: 10_000, ..Failures::default() }), LoginVerdict::Delay(MAX_LOGIN_DELAY));
        // The limit off: everything goes.
        let off = RateLimitConfig::off();
        assert_eq!(
            off.login_verdict(&Failures { network: 1000, account_network: 1000, ..Failures::default() }, now),
            LoginVerdict::Go
        );
    }
}
