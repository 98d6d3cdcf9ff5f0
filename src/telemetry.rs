//! Logging set-up: the log format, and panics logged with their message.

use std::io::IsTerminal;

/// Logs to stderr at `RUST_LOG` (default `info`), and logs every panic.
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    log_panics();
}

/// Panics are logged with their message, location and thread, wherever they happen (a
/// blocking-pool thread that panics would otherwise surface only as "Blocking thread
/// pool is shut down unexpectedly").
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        tracing::error!(%message, %location, %thread, "panic");
    }));
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panic_is_logged_with_its_message_and_place() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let previous = std::panic::take_hook();
        super::log_panics();
        let value = 42;
        let result =
            tracing::subscriber::with_default(subscriber, || std::panic::catch_unwind(|| panic!("the cause, {value}")));
        std::panic::set_hook(previous);
        assert!(result.is_err());
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("panic"), "{log}");
        assert!(log.contains("the cause, 42"), "{log}");
        assert!(log.contains("src/telemetry.rs:"), "{log}");
    }
}
