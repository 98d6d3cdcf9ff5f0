#!/usr/bin/env python3
"""A mixed soak: the release binary on SQLite (the demo site) under anonymous pages,
signed-in pages, search, live streams and posting at once for a while, with its
resident memory sampled every 5 s.

    cargo build --release --bin afterword
    python3 bench/soak.py [SECONDS]          # default 600

Prints RSS idle, the peak and where it ends, the largest sample of each minute and the
trend over the second half, and what each load managed.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the benchmark's client, wrk and RSS helpers)


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    work = tempfile.mkdtemp(prefix="afterword-soak-")
    db_url = f"sqlite://{work}/soak.db"
    server = subprocess.Popen(
        [f"{bench.ROOT}/target/release/afterword", "serve", "--database-url", db_url, "--bind",
         f"127.0.0.1:{bench.PORT}", "--rate-limit", "0", "--auth-rate-limit", "0", "--comment-rate-limit", "0",
         "--comment-daily-limit", "0", "--connections-per-address", "1000", "--demo"],
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(bench.BASE + "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        writer, reader = bench.Client(), bench.Client()
        for name, c in (("writer", writer), ("reader", reader)):
            c.post("/signup", username=f"soak{name}", email=f"soak{name}@example.com", password=bench.PASSWORD)
        _, body, _ = bench.Client().get("/")
        slug = body.decode().split('href="/articles/', 1)[1].split('"', 1)[0]
        for n in range(100):
            writer.post(f"/articles/{slug}/comments", body=f"Soak comment {n} with **Markdown**")
        time.sleep(1)
        idle = bench.rss(server.pid)
        session = f"afterword_session={reader.cookie('afterword_session')}"
        script = os.path.join(work, "post.lua")
        with open(script, "w") as f:
            f.write(f"""
wrk.method = "POST"
wrk.body = "csrf_token={writer.token()}&body=Soak+comment"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "afterword_session={writer.cookie('afterword_session')}"
wrk.headers["Origin"] = "{bench.BASE}"
""")
        page = f"{bench.BASE}/articles/{slug}"
        loads = {
            "anonymous page": (page, ["Accept-Encoding: gzip"], None, 8),
            "signed-in page": (page, ["Accept-Encoding: gzip", f"Cookie: {session}"], None, 8),
            "search": (f"{bench.BASE}/search?q=privacy", [], None, 2),
            # Slow on purpose: a steady trickle of posts, not a flood.
            "posting": (f"{page}/comments", [], script, 2),
        }
        results, samples = {}, []

        def load(name, url, headers, lua, connections):
            results[name] = bench.wrk(url, seconds, connections, headers, lua)

        threads = [threading.Thread(target=load, args=(n, *v)) for n, v in loads.items()]
        # Live readers: streams held open through the soak.
        streams = []
        for _ in range(50):
            streams.append(urllib.request.urlopen(f"{bench.BASE}/articles/{slug}/events", timeout=seconds + 30))
        for t in threads:
            t.start()
        end = time.time() + seconds
        while time.time() < end:
            samples.append(bench.rss(server.pid))
            time.sleep(5)
        for t in threads:
            t.join()
        for s in streams:
            s.close()
        time.sleep(35)  # idle again: the next trim
        after = bench.rss(server.pid)
        peak = max(samples + [bench.rss(server.pid, "VmHWM")])
        print(f"\n### Mixed soak, SQLite demo site, {seconds} s\n")
        print("| load | requests/s | p99 | failed |")
        print("|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['rate']:,.0f} | {r['p99']:.1f} ms | {r['bad'] + r['errors']} |")
        print(f"\nRSS: {idle:.0f} MiB idle before, {peak:.0f} MiB peak, {samples[-1]:.0f} MiB at the end of the load, "
              f"{after:.0f} MiB idle after; samples every 5 s: "
              f"first minute max {max(samples[:12]):.0f}, last minute max {max(samples[-12:]):.0f} MiB.")
        minutes = [max(samples[i:i + 12]) for i in range(0, len(samples), 12)]
        print("Largest sample of each minute (MiB): " + ", ".join(f"{m:.1f}" for m in minutes))
        half = samples[len(samples) // 2:]
        print(f"Trend over the second half (least squares): {slope(half, 5.0) * 1024:+.1f} KiB/s.")
    finally:
        server.terminate()
        server.wait()


def slope(values, step):
    """The least-squares slope of `values` sampled every `step` seconds, per second."""
    n = len(values)
    if n < 2:
        return 0.0
    xs = [i * step for i in range(n)]
    mx, my = sum(xs) / n, sum(values) / n
    return sum((x - mx) * (y - my) for x, y in zip(xs, values)) / sum((x - mx) ** 2 for x in xs)


if __name__ == "__main__":
    main()
