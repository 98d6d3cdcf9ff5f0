#!/usr/bin/env python3
"""Benchmark: reads while SQLite's write lock is held by another process.

    cargo build --release --bin afterword
    python3 bench/request_path_locked.py [path/to/afterword]

Starts the release binary on a new SQLite file with the demo articles, signs up a
reader, saves an article, then holds the database's write lock from this process
(BEGIN IMMEDIATE) while 12 comment posts wait on it, and times /healthz, the saved
article page (logged in) and a logged-in static file. Prints one line per
measurement. The lock is released after the reads; the posts then finish (303) or
give up (503).
"""

import http.cookiejar
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/afterword"
PORT = int(os.environ.get("BENCH_PORT", "18091"))
BASE = f"http://127.0.0.1:{PORT}"
SLUG = "meta-again-denies-that-netflix-read-users-private-facebook-messages"


def client():
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.addheaders = [("Origin", BASE)]
    return opener


def request(opener, path, data=None, timeout=10):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    start = time.perf_counter()
    try:
        with opener.open(BASE + path, data=body, timeout=timeout) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, text, time.perf_counter() - start


def token(opener):
    _, page, _ = request(opener, "/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def main():
    work = tempfile.mkdtemp()
    db = os.path.join(work, "bench.db")
    server = subprocess.Popen(
        [BINARY, "serve", "--demo", "--database-url", f"sqlite://{db}", "--bind", f"127.0.0.1:{PORT}",
         "--rate-limit", "0", "--comment-rate-limit", "0", "--comment-daily-limit", "0"],
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        for _ in range(200):
            try:
                if request(client(), "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        reader = client()
        status, _, _ = request(
            reader,
            "/signup",
            {"username": "ann", "email": "ann@example.com", "password": "plum orchard at dusk", "csrf_token": token(reader)},
        )
        assert status == 303, status
        status, _, _ = request(
            reader,
            f"/articles/{SLUG}/save",
            {"action": "save", "return_to": f"/articles/{SLUG}", "csrf_token": token(reader)},
        )
        assert status == 303, status
        _, home, _ = request(reader, "/")
        css = re.search(r'href="(/static/[^"]+\.css)"', home).group(1)
        csrf = token(reader)

        lock = sqlite3.connect(db, isolation_level=None, timeout=10)
        lock.execute("BEGIN IMMEDIATE")
        results = []

        def post(i):
            results.append(request(reader, f"/articles/{SLUG}/comments", {"body": f"write {i}", "csrf_token": csrf}, 30)[0])

        writers = [threading.Thread(target=post, args=(i,)) for i in range(12)]
        for w in writers:
            w.start()
        time.sleep(0.5)  # let the posts reach the server and queue
        for label, path in [("healthz", "/healthz"), ("saved article, logged in", f"/articles/{SLUG}"), ("static, logged in", css)]:
            status, _, seconds = request(reader, path, timeout=30)
            print(f"{label:28} {status}  {seconds * 1000:8.1f} ms  (12 writers waiting on the lock)")
        lock.execute("ROLLBACK")
        for w in writers:
            w.join()
        print("posts after the lock was released:", {s: results.count(s) for s in sorted(set(results))})
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
