//! The settings of the one asynchronous PostgreSQL connection each instance keeps for
//! `LISTEN` (live events and cache invalidations, `web::live`), read from the site's
//! database URL.
//!
//! The site's other connections go through libpq, which reads every `sslmode` and the
//! certificate files; this one goes through tokio-postgres, which knows `disable`,
//! `prefer` and `require` and refuses libpq's other parameters. Here libpq's meaning
//! is kept: the listener is as private as the others, and connects wherever they do.

use anyhow::{bail, Context};
use postgres_native_tls::MakeTlsConnector;
use tokio_postgres::config::SslMode;

/// What the listener's connection is called in `pg_stat_activity`, unless the URL
/// names it.
pub const APPLICATION_NAME: &str = "afterword-listener";
/// What a worker thread's link to the database calls itself (`web::live`), unless the
/// URL names the application.
pub const LINK_APPLICATION_NAME: &str = "afterword-link";

/// Where libpq (as built into the binary) looks for the server's socket when the URL
/// names no host.
const DEFAULT_SOCKET_FOLDER: &str = "/tmp";

/// How the listener's connection uses TLS.
#[derive(Clone)]
pub enum Tls {
    /// Never: `sslmode=disable`, or sockets only, over which libpq never uses TLS.
    Off,
    /// As the settings' `sslmode` says (`prefer` or `require`).
    On(MakeTlsConnector),
    /// libpq's `allow`: without TLS first, and with it only if the server refuses that
    /// ([`with_tls`] then gives the settings). The connector is built only then.
    Fallback,
}

/// The listener's connection settings for `url`, and how it uses TLS. Where it uses
/// none, OpenSSL is left alone: set up, it maps 3 MiB more of its code.
pub fn settings(url: &str) -> anyhow::Result<(tokio_postgres::Config, Tls)> {
    read(url, false)
}

/// The settings with TLS, for a connection `allow` falls back to: as with `prefer`.
pub fn with_tls(url: &str) -> anyhow::Result<(tokio_postgres::Config, Tls)> {
    read(url, true)
}

fn read(url: &str, fallen_back: bool) -> anyhow::Result<(tokio_postgres::Config, Tls)> {
    // Split by hand: libpq's URLs may name no host (`postgres://me@/site`, a socket),
    // which the url crate refuses.
    let (address, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = "prefer".to_owned();
    let (mut root, mut cert, mut key) = (None, None, None);
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "sslmode" => mode = value.into_owned(),
            "sslrootcert" => root = Some(value.into_owned()),
            "sslcert" => cert = Some(value.into_owned()),
            "sslkey" => key = Some(value.into_owned()),
            _ => {
                kept.append_pair(&name, &value);
            }
        }
    }
    let kept = kept.finish();
    let parsed = if kept.is_empty() { address.to_owned() } else { format!("{address}?{kept}") };
    let mut config: tokio_postgres::Config =
        parsed.parse().context("the listener cannot read the database URL (a parameter it does not know?)")?;
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }

    let mut tls = native_tls::TlsConnector::builder();
    // As libpq: `require` checks the certificate only when a root certificate is given,
    // `verify-ca` checks the chain but not the host name, `verify-full` both.
    let ssl = match mode.as_str() {
        "disable" => SslMode::Disable,
        "allow" if !fallen_back => SslMode::Disable,
        "allow" | "prefer" => {
            tls.danger_accept_invalid_certs(true);
            SslMode::Prefer
        }
        "require" => {
            if root.is_none() {
                tls.danger_accept_invalid_certs(true);
            } else {
                tls.danger_accept_invalid_hostnames(true);
            }
            SslMode::Require
        }
        "verify-ca" => {
            tls.danger_accept_invalid_hostnames(true);
            SslMode::Require
        }
        "verify-full" => SslMode::Require,
        other => bail!("sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"),
    };
    config.ssl_mode(ssl);
    // As libpq 16 and later: `sslrootcert=system` trusts the system's roots, and only
    // with `verify-full`.
    let system = root.as_deref() == Some("system");
    if system && mode != "verify-full" {
        bail!("sslrootcert=system needs sslmode=verify-full (weak sslmode {mode:?})");
    }
    let root = root.filter(|_| !system);
    // A given root is the only one trusted, as with libpq. Checking a certificate without
    // one (`verify-ca`, `verify-full`), libpq reads ~/.postgresql/root.crt; the listener
    // uses the system's roots. Otherwise no root is needed: left out, the system's bundle
    // is parsed and dropped at once rather than kept for the life of the process.
    let system_roots = matches!(mode.as_str(), "verify-ca" | "verify-full") && root.is_none();
    tls.disable_built_in_roots(!system_roots);
    // With no host (nor `hostaddr`), libpq connects to its default socket folder;
    // tokio-postgres would refuse to connect.
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        config.host_path(DEFAULT_SOCKET_FOLDER);
    }
    // libpq ignores `sslmode` over a socket (the server refuses TLS there). A `hostaddr`
    // is always reached over TCP, whatever the host beside it says.
    let sockets_only = config.get_hostaddrs().is_empty()
        && config.get_hosts().iter().all(|host| matches!(host, tokio_postgres::config::Host::Unix(_)));
    if mode == "disable" || sockets_only {
        config.ssl_mode(SslMode::Disable);
        return Ok((config, Tls::Off));
    }
    if ssl == SslMode::Disable {
        return Ok((config, Tls::Fallback));
    }
    if let Some(path) = root {
        let pem = std::fs::read(&path).with_context(|| format!("reading sslrootcert {path}"))?;
        tls.add_root_certificate(
            native_tls::Certificate::from_pem(&pem).context("sslrootcert is not a PEM certificate")?,
        );
    }
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let cert = std::fs::read(&cert).with_context(|| format!("reading sslcert {cert}"))?;
            let key = std::fs::read(&key).with_context(|| format!("reading sslkey {key}"))?;
            tls.identity(
                native_tls::Identity::from_pkcs8(&cert, &key).context("sslcert and sslkey do not make a key pair")?,
            );
        }
        (None, None) => {}
        _ => bail!("sslcert and sslkey go together"),
    }
    let connector = tls.build().context("the TLS settings cannot be used")?;
    Ok((config, Tls::On(MakeTlsConnector::new(connector))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_parameters_are_translated() {
        let (config, _) =
            settings("postgres://u:p@db.example:5433/site?sslmode=verify-full&connect_timeout=5").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(config.get_connect_timeout(), Some(&std::time::Duration::from_secs(5)));
        assert_eq!(config.get_dbname(), Some("site"));
        assert_eq!(config.get_application_name(), Some(APPLICATION_NAME));
        for (mode, expected) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Disable),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::Require),
        ] {
            let (config, _) = settings(&format!("postgres://h/d?sslmode={mode}")).unwrap();
            assert_eq!(config.get_ssl_mode(), expected, "{mode}");
        }
        let (config, _) = settings("postgresql://h/d?application_name=blue").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(config.get_application_name(), Some("blue"));
    }

    #[test]
    fn sockets_and_system_roots_are_read_as_libpq_reads_them() {
        use tokio_postgres::config::Host;
        let (config, tls) = settings("postgres://me@/site").unwrap();
        assert_eq!(config.get_hosts(), [Host::Unix("/tmp".into())]);
        assert!(matches!(tls, Tls::Off), "no TLS over a socket");
        let (config, tls) = settings("postgres://me@/site?host=/var/run/postgresql&sslmode=require").unwrap();
        assert_eq!(config.get_hosts(), [Host::Unix("/var/run/postgresql".into())]);
        assert_eq!(config.get_ssl_mode(), SslMode::Disable, "sslmode means nothing over a socket");
        assert!(matches!(tls, Tls::Off));
        let (config, tls) = settings("postgres://h/d?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert!(matches!(tls, Tls::On(_)));
        // A `hostaddr` is TCP, even beside a socket folder: TLS as the URL asks.
        for url in
            ["postgres://u@/d?hostaddr=10.0.0.5&sslmode=require", "postgres://u@/d?host=/run/pg&hostaddr=10.0.0.5"]
        {
            let (config, tls) = settings(url).unwrap();
            assert_ne!(config.get_ssl_mode(), SslMode::Disable, "{url}");
            assert!(matches!(tls, Tls::On(_)), "{url}");
        }
        let (config, tls) = settings("postgres://h/d?sslmode=disable").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        assert!(matches!(tls, Tls::Off), "OpenSSL is not set up without TLS");
        assert!(settings("postgres://h/d?sslmode=require&sslrootcert=system").is_err());
    }

    #[test]
    fn allow_is_without_tls_first() {
        let (config, tls) = settings("postgres://u@db.example/d?sslmode=allow").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        assert!(matches!(tls, Tls::Fallback), "no TLS set up at first");
        let (config, tls) = with_tls("postgres://u@db.example/d?sslmode=allow").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        assert!(matches!(tls, Tls::On(_)), "with TLS as `prefer` once fallen back");
        // On this machine as elsewhere, TLS is used as the URL says: a forwarder on
        // 127.0.0.1 may lead to a server far away.
        let (config, tls) = settings("postgres://u@127.0.0.1/d").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Prefer);
        assert!(matches!(tls, Tls::On(_)));
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        assert!(settings("postgres://h/d?sslmode=sometimes").is_err());
        assert!(settings("postgres://h/d?sslrootcert=/nonexistent/root.crt").is_err());
        assert!(settings("postgres://h/d?sslcert=/nonexistent/c.crt").is_err());
    }
}
