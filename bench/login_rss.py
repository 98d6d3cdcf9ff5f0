#!/usr/bin/env python3
"""Benchmark: peak memory under 200 concurrent logins (argon2 is bounded).

    cargo build --release --bin afterword
    python3 bench/login_rss.py [path/to/afterword] [concurrent]

Creates an account with the CLI on a new SQLite file, starts the binary with the
per-address limits off, sends `concurrent` (default 200) logins with the right
password at once, each from its own client, and prints the answers by status and the
server's peak resident memory (VmHWM) before and after.
"""

import collections
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/afterword"
CONCURRENT = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PORT = int(os.environ.get("BENCH_PORT", "18093"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "plum orchard at dusk"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def login(statuses, start):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
    try:
        page = opener.open(f"{BASE}/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"login": "bench", "password": PASSWORD, "csrf_token": token}).encode()
        request = urllib.request.Request(f"{BASE}/login", data=body, headers={"Origin": BASE})
        start.wait()
        status = opener.open(request, timeout=60).status
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception as e:  # connection reset and the like
        status = type(e).__name__
    statuses.append(status)


def main():
    tmp = tempfile.mkdtemp()
    url = f"sqlite://{tmp}/bench.db"
    env = dict(os.environ, AFTERWORD_ADMIN_PASSWORD=PASSWORD)
    subprocess.run([BINARY, "admin", "create", "--database-url", url, "--username", "bench",
                    "--email", "bench@example.com"], check=True, env=env, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([BINARY, "serve", "--database-url", url, "--bind", f"127.0.0.1:{PORT}",
                               "--rate-limit", "0", "--auth-rate-limit", "0",
                               "--connections-per-address", str(CONCURRENT + 10)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        before = peak_rss_mib(server.pid)
        statuses, start = [], threading.Event()
        threads = [threading.Thread(target=login, args=(statuses, start)) for _ in range(CONCURRENT)]
        for t in threads:
            t.start()
        time.sleep(2)  # every client has its form
        began = time.time()
        start.set()
        for t in threads:
            t.join()
        took = time.time() - began
        after = peak_rss_mib(server.pid)
        print(f"{CONCURRENT} concurrent logins in {took:.1f} s: {dict(collections.Counter(statuses))}")
        print(f"peak RSS: {before:.0f} MiB before, {after:.0f} MiB after")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
