//! Markdown rendering cost for the worst 10,000-character comment bodies found.
//! Run: cargo run --release --example markdown_bench
//! Prints, per body, the slowest of 20 renders; the target is at most 20 ms.

use std::time::{Duration, Instant};

fn bodies() -> Vec<(&'static str, String)> {
    let n = 10_000;
    vec![
        ("quotes >x10000", ">".repeat(n)),
        ("spaced quotes", "> ".repeat(n / 2)),
        ("quote staircase", (1..=135).map(|i| format!("{} x\n", ">".repeat(i))).collect()),
        ("dashes", "- ".repeat(n / 2)),
        ("stars", "* ".repeat(n / 2)),
        ("numbers", "1. ".repeat(n / 3)),
        ("mixed markers", "> - 1. * ".repeat(n / 9)),
        ("indented lists", (0..98).map(|i| format!("{}- x\n", "  ".repeat(i))).collect()),
        ("quote lines of 16+", (0..450).map(|_| format!("{} x\n", "> ".repeat(10))).collect()),
        ("emphasis *", "*".repeat(n)),
        ("emphasis words", "*a ".repeat(n / 3)),
        ("underscores", "_a".repeat(n / 2)),
        ("brackets [", "[".repeat(n)),
        ("link openers", "[a](".repeat(n / 4)),
        ("nested links", "[".repeat(n / 2) + &"](x)".repeat(n / 8)),
        ("backticks", "`".repeat(n)),
        ("backtick runs", (1..140).map(|i| "`".repeat(i) + " ").collect()),
        ("raw html", "<a>".repeat(n / 3)),
        ("autolinks", "<https://a.example/> ".repeat(n / 21)),
        ("escapes", "\\*".repeat(n / 2)),
        ("plain words", "word ".repeat(n / 5)),
    ]
}

fn main() {
    let mut worst = Duration::ZERO;
    for (name, body) in bodies() {
        let body: String = body.chars().take(10_000).collect();
        let mut slowest = Duration::ZERO;
        let mut bytes = 0;
        for _ in 0..20 {
            let start = Instant::now();
            let html = afterword::markdown::render(&body);
            slowest = slowest.max(start.elapsed());
            bytes = html.len();
        }
        worst = worst.max(slowest);
        println!("{name:<22} {:>5} chars -> {bytes:>6} bytes  max {:>8.3} ms", body.chars().count(), ms(slowest));
    }
    println!("worst render: {:.3} ms (target <= 20 ms)", ms(worst));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
