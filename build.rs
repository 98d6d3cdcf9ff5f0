//! The release binary lays out the functions a serving site runs side by side, in the
//! order `src/code-order.txt` gives (written by `bench/code_order.py`). The kernel maps
//! code 64 KiB at a time around each page that runs, so the same functions scattered
//! through 17 MB of code kept most of it resident.
//!
//! The order is an option of LLD, the linker of rustup's x86-64 Linux toolchains since
//! Rust 1.90. A release build first links an empty program with it: where the linker
//! refuses it (another linker, another target), the binary is linked as before.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ORDER: &str = "src/code-order.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join(ORDER);
    if !release || !target || !order.exists() || !links_with_an_order() {
        return;
    }
    // Two arguments rather than `-Wl,…`, which would split a path at its commas.
    for arg in
        ["-Xlinker", &format!("--symbol-ordering-file={}", order.display()), "-Xlinker", "--no-warn-symbol-ordering"]
    {
        println!("cargo:rustc-link-arg-bin=afterword={arg}");
    }
    // The names carry hashes of the compiler's version: another rustc finds few of them.
    let written_with = fs::read_to_string(&order).ok().and_then(|text| {
        text.lines().next().and_then(|line| line.strip_prefix("# ")).map(|line| line.trim().to_owned())
    });
    match (written_with, rustc_version()) {
        (Some(written_with), Some(rustc)) if written_with != rustc => println!(
            "cargo:warning={ORDER} was written with {written_with}, this is {rustc}: few of its functions will be \
             found (run bench/code_order.py)"
        ),
        _ => {}
    }
}

/// Whether rustc, with the linker and flags of this build, links an empty program given
/// an order (an empty one).
fn links_with_an_order() -> bool {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    let source = out.join("order-probe.rs");
    let empty = out.join("order-probe.txt");
    if fs::write(&source, "fn main() {}\n").is_err() || fs::write(&empty, "").is_err() {
        return false;
    }
    let mut rustc = Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc.arg("--target").arg(env::var("TARGET").unwrap_or_default());
    rustc.arg("-o").arg(out.join("order-probe")).arg(&source);
    rustc.arg("-Clink-arg=-Xlinker").arg(format!("-Clink-arg=--symbol-ordering-file={}", empty.display()));
    if let Some(linker) = env::var_os("RUSTC_LINKER") {
        rustc.arg("-C").arg({
            let mut arg = std::ffi::OsString::from("linker=");
            arg.push(linker);
            arg
        });
    }
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        rustc.args(flags.split('\x1f').filter(|flag| !flag.is_empty()));
    }
    rustc.output().is_ok_and(|output| output.status.success())
}

/// `rustc 1.95.0 (59807616e 2026-04-14)`, as `rustc --version` prints it.
fn rustc_version() -> Option<String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
