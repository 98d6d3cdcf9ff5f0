//! The release binary lays out the functions a serving site runs side by side, in the
//! order `src/code-order.txt` gives (written by `bench/code_order.py`). The kernel maps
//! code 64 KiB at a time around each page that runs, so the same functions scattered
//! through 17 MB of code kept most of it resident.
//!
//! The order is a linker option of LLD, Rust's default linker on x86-64 Linux since
//! 1.90; other targets, linkers and profiles build as before.

use std::env;
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/code-order.txt");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let own_linker = env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some()
        || env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("link"));
    if !release || !target || own_linker || !lld_by_default() {
        return;
    }
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("src/code-order.txt");
    if order.exists() {
        println!("cargo:rustc-link-arg-bin=afterword=-Wl,--symbol-ordering-file={}", order.display());
        // Names the build no longer has (renamed or inlined functions) are skipped.
        println!("cargo:rustc-link-arg-bin=afterword=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether rustc is 1.90 or later, which links with LLD on this target.
fn lld_by_default() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("--version").output() else { return false };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let version = String::from_utf8_lossy(&out.stdout);
    let mut numbers = version.split_whitespace().nth(1).unwrap_or("").split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)) >= (1, 90)
}
