#!/usr/bin/env python3
"""The benchmark: the release binary loaded over loopback with wrk, beside nginx
serving the same bytes as static files (the ceiling), interleaved so that both see
the same machine.

    python3 bench/run.py                         # SQLite and PostgreSQL, small and large
    python3 bench/run.py --backends sqlite --sizes small --duration 5
    python3 bench/run.py --backends sqlite --sizes small --only reader   # one page beside nginx
    python3 bench/run.py --only reader --no-build --profile /tmp/perf.data   # perf, binaries as built
    python3 bench/run.py --backends postgres --postgres-socket /var/run/postgresql   # no TCP, no TLS
    python3 bench/run.py --backends postgres --postgres-sslmode allow   # TCP without TLS

For each backend and size it starts `afterword serve` (limits off), makes an article
page with 200 comments (50 threads of four, Markdown in each, some votes) through
HTTP, saves what the server sends for it (anonymous; a signed-in reader who voted on
five of its comments; its author, who wrote them all; gzip-compressed as a browser
asks) into nginx's folder, and measures in rounds: each of our pages, then
nginx with its bytes. "small" is the demo site; "large" is filled by
`bench/generate.rs` (10,000 articles, 50,000 accounts, 1,000,000 comments) first.
Then posting (every acknowledged comment must be stored) and memory (RSS idle, peak).
Prints a Markdown table per run. The site reaches PostgreSQL over TCP on 127.0.0.1, with
TLS when the server offers it (libpq's `sslmode=prefer`), unless told another `sslmode`
(`--postgres-sslmode allow`: no TLS) or the server's socket.
"""

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT, NGINX_PORT = 18080, 18081
BASE = f"http://127.0.0.1:{PORT}"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark passphrase"


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


class Client:
    """A browser-like client: cookies, the CSRF token from forms, no redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self.NoRedirect)

    def get(self, path, headers=None):
        req = urllib.request.Request(BASE + path, headers=headers or {})
        try:
            with self.opener.open(req) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def token(self):
        for _ in range(30):
            status, body, _ = self.get("/login")
            found = re.search(r'name="csrf_token" value="([^"]+)"', body.decode())
            if status == 200 and found:
                return found.group(1)
            time.sleep(1)  # busy after a heavy measurement
        raise RuntimeError(f"no form on /login: {status}")

    def post(self, path, **fields):
        fields["csrf_token"] = self.token()
        data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(BASE + path, data=data, headers={"Origin": BASE})
        try:
            with self.opener.open(req) as r:
                return r.status, r.headers.get("Location", "")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location", "")

    def cookie(self, name):
        return next(c.value for c in self.jar if c.name == name)


def wrk(url, duration, connections, headers=(), script=None):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = sh(*args, url)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rate": rate,
        "p99": float(p99.group(1)) * scale,
        "total": total,
        "bad": int(bad.group(1)) if bad else 0,
        "errors": sum(map(int, errors.groups())) if errors else 0,
    }


def rss(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_nginx(www, work):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    gzip_static on;
    etag on;
    server {{ listen 127.0.0.1:{NGINX_PORT}; root {www}; }}
}}
""")
    subprocess.run(["nginx", "-c", conf], check=True)
    return conf


def comment_count(db_url):
    if db_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(db_url.removeprefix("sqlite://")) as c:
            return c.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    return int(sh("psql", "-tAc", "SELECT COUNT(*) FROM comments", db_url).strip())


def prepare_database(backend, size, work, cache):
    """A database URL for this run; the large one is generated once and copied."""
    if backend == "sqlite":
        url = f"sqlite://{work}/bench.db"
        if size == "large":
            cached = os.path.join(cache, "large.db")
            if not os.path.exists(cached):
                print("Generating the large SQLite database (once) …", flush=True)
                sh(f"{ROOT}/target/release/examples/generate", f"sqlite://{cached}.part")
                os.rename(cached + ".part", cached)
            shutil.copy(cached, f"{work}/bench.db")
        return url
    name = "afterword_bench"
    sh("psql", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", PG_ADMIN)
    if size == "large":
        template = "afterword_bench_large"
        exists = sh("psql", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{template}'", PG_ADMIN).strip()
        if not exists:
            print("Generating the large PostgreSQL database (once) …", flush=True)
            sh("psql", "-qc", f"CREATE DATABASE {template}_part", PG_ADMIN)
            sh(f"{ROOT}/target/release/examples/generate", pg_url(f"{template}_part"))
            sh("psql", "-qc", f"ALTER DATABASE {template}_part RENAME TO {template}", PG_ADMIN)
        sh("psql", "-qc", f"CREATE DATABASE {name} TEMPLATE {template}", PG_ADMIN)
    else:
        sh("psql", "-qc", f"CREATE DATABASE {name}", PG_ADMIN)
    return pg_url(name)


BENCH_ARTICLE = [{
    "title": "The benchmark article", "slug": "benchmark-article",
    "source_url": "https://example.com/benchmark", "source_name": "example.com", "published_at": "2030-01-01",
    "summary": ["The article every run loads.", "It is the newest, so it leads the front page."],
    "key_takeaways": ["Same page on every database", "200 comments"], "tags": ["benchmark"],
}]


# With --postgres-socket: the folder of the server's socket, which the site connects
# through (as a site on the database's machine would: no TCP, and never TLS).
PG_SOCKET = None
# With --postgres-sslmode: the URL's sslmode over TCP.
PG_SSLMODE = None


def pg_url(name):
    if PG_SOCKET:
        return f"postgres://postgres@/{name}?host={urllib.parse.quote(PG_SOCKET, safe='')}"
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    return f"{url}?sslmode={PG_SSLMODE}" if PG_SSLMODE else url


def run(backend, size, args, cache):
    work = tempfile.mkdtemp(prefix="afterword-bench-")
    os.chmod(work, 0o755)  # nginx's workers read the files in it
    db_url = prepare_database(backend, size, work, cache)
    # The article measured: new and empty on every database, whatever else it holds.
    with open(f"{work}/article.json", "w") as f:
        json.dump(BENCH_ARTICLE, f)
    sh(f"{ROOT}/target/release/afterword", "import-articles", "--database-url", db_url, f"{work}/article.json")
    server = subprocess.Popen(
        [f"{ROOT}/target/release/afterword", "serve", "--database-url", db_url, "--bind", f"127.0.0.1:{PORT}",
         "--rate-limit", "0", "--auth-rate-limit", "0", "--comment-rate-limit", "0", "--comment-daily-limit", "0",
         "--pool-size", "16"] + (["--demo"] if size == "small" else []),
        env={**os.environ, "RUST_LOG": "warn"},
    )
    nginx = None
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(BASE + "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        writer, voter, reader = Client(), Client(), Client()
        for name, c in (("writer", writer), ("voter", voter), ("reader", reader)):
            status, _ = c.post("/signup", username=f"bench{name}", email=f"bench{name}@example.com", password=PASSWORD)
            assert status == 303, f"sign-up: {status}"
        slug = "benchmark-article"
        for thread in range(50):
            body = f"Thread {thread}: **Markdown** with a [link](https://example.com/{thread}) and `code`."
            _, location = writer.post(f"/articles/{slug}/comments", body=body)
            top = parent = location.rsplit("comment-", 1)[1]
            for reply in range(3):
                _, location = writer.post(f"/articles/{slug}/comments", body=f"Reply {reply} in thread {thread}", parent_id=parent)
                parent = location.rsplit("comment-", 1)[1]
            voter.post(f"/comments/{top}/vote", value=-1 if thread % 3 == 0 else 1)
            if thread % 10 == 5:
                # A reader who took part a little: five votes on the page.
                reader.post(f"/comments/{top}/vote", value=1)
        page = f"/articles/{slug}"
        anonymous = Client()
        plain = anonymous.get(page)[1]
        assert plain.count(b'class="comment"') == 200, "the page shows 200 comments"
        time.sleep(1)
        idle = rss(server.pid)

        # The same bytes for nginx: what a browser is sent, gzip-compressed.
        www = os.path.join(work, "www")
        os.makedirs(www)
        gz = {"Accept-Encoding": "gzip"}
        session = f"afterword_session={writer.cookie('afterword_session')}"
        reader_session = f"afterword_session={reader.cookie('afterword_session')}"
        reader_plain = reader.get(page)[1]
        author_plain = writer.get(page)[1]
        pages = (("anonymous", anonymous, plain), ("reader", reader, reader_plain), ("author", writer, author_plain))
        for name, client, body in pages:
            status, packed, response_headers = client.get(page, gz)
            assert status == 200 and response_headers.get("Content-Encoding") == "gzip", (name, response_headers)
            with open(f"{www}/{name}.html.gz", "wb") as f:
                f.write(packed)
            with open(f"{www}/{name}.html", "wb") as f:
                f.write(body)
        sizes = {n: os.path.getsize(f"{www}/{n}.html.gz") for n, _, _ in pages}
        nginx = start_nginx(www, work)
        ceiling = f"http://127.0.0.1:{NGINX_PORT}"
        for name, _, _ in pages:
            req = urllib.request.Request(f"{ceiling}/{name}.html", headers=gz)
            with urllib.request.urlopen(req) as r:
                assert r.status == 200 and r.headers["Content-Encoding"] == "gzip", "nginx serves the saved bytes"
                assert r.read() == open(f"{www}/{name}.html.gz", "rb").read(), "the same bytes"

        measures = {
            "anonymous": (BASE + page, ["Accept-Encoding: gzip"]),
            "nginx anonymous": (ceiling + "/anonymous.html", ["Accept-Encoding: gzip"]),
            "reader": (BASE + page, ["Accept-Encoding: gzip", f"Cookie: {reader_session}"]),
            "nginx reader": (ceiling + "/reader.html", ["Accept-Encoding: gzip"]),
            "author": (BASE + page, ["Accept-Encoding: gzip", f"Cookie: {session}"]),
            "nginx author": (ceiling + "/author.html", ["Accept-Encoding: gzip"]),
            "front page": (BASE + "/", ["Accept-Encoding: gzip"]),
            "search": (BASE + "/search?q=privacy", ["Accept-Encoding: gzip"]),
        }
        if args.only:
            chosen = args.only.split(",")
            measures = {k: v for k, v in measures.items() if k in chosen or k.removeprefix("nginx ") in chosen}
        results = {k: [] for k in measures}
        peak = idle
        # A profile of the server while the chosen pages are measured (nginx's turns too).
        perf = (subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", os.environ.get("PERF_CALL_GRAPH", "fp"), "-p", str(server.pid), "-o", args.profile],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if args.profile else None)
        for _ in range(args.rounds):
            for name, (url, headers) in measures.items():
                results[name].append(wrk(url, args.duration, args.connections, headers))
                peak = max(peak, rss(server.pid))
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        best = {k: max(v, key=lambda r: r["rate"]) for k, v in results.items()}

        if args.only and "posting" not in args.only.split(","):
            for name, r in best.items():
                print(f"| {name} | {r['rate']:,.0f} | {r['p99']:.1f} ms |")
            print(f"Page bytes, gzip: anonymous {sizes['anonymous']:,}, reader {sizes['reader']:,},"
                  f" author {sizes['author']:,}.")
            return
        # Posting: every acknowledged comment must be stored.
        script = os.path.join(work, "post.lua")
        token = writer.token()
        with open(script, "w") as f:
            f.write(f"""
wrk.method = "POST"
wrk.body = "csrf_token={token}&body=Benchmark+comment+with+*emphasis*"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "{session}"
wrk.headers["Origin"] = "{BASE}"
""")
        before = comment_count(db_url)
        posting = wrk(BASE + f"/articles/{slug}/comments", args.duration, args.connections, script=script)
        stored = comment_count(db_url) - before
        acknowledged = posting["total"] - posting["bad"]
        peak = max(peak, rss(server.pid), rss(server.pid, "VmHWM"))

        ratio = lambda ours, theirs: 100 * best[ours]["rate"] / best[theirs]["rate"]
        print(f"\n### {backend}, {size} database ({args.rounds} rounds of {args.duration} s, wrk -t2 -c{args.connections}, best round)\n")
        print("| What | requests/s | p99 | vs nginx | failed |")
        print("|---|---|---|---|---|")
        for name in measures:
            r = best[name]
            vs = ""
            if name in ("anonymous", "reader", "author"):
                vs = f"{ratio(name, 'nginx ' + name):.0f}%"
            failed = sum(x["bad"] + x["errors"] for x in results[name])
            print(f"| {name} | {r['rate']:,.0f} | {r['p99']:.1f} ms | {vs} | {failed} |")
        print(f"| posting | {posting['rate']:,.0f} | {posting['p99']:.1f} ms | | {posting['bad'] + posting['errors']} |")
        print()
        print(f"Page bytes, gzip: anonymous {sizes['anonymous']:,}, reader {sizes['reader']:,},"
              f" author {sizes['author']:,}; uncompressed: anonymous {len(plain):,},"
              f" reader {len(reader_plain):,}, author {len(author_plain):,}.")
        print(f"Posting: {acknowledged} acknowledged, {stored} stored, {posting['bad']} errors, {posting['errors']} socket errors.")
        print(f"Server RSS: {idle:.0f} MiB idle, {peak:.0f} MiB peak.")
        sys.stdout.flush()
    finally:
        if nginx:
            subprocess.run(["nginx", "-c", nginx, "-s", "stop"])
        server.send_signal(signal.SIGTERM)
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
        if backend == "postgres":
            sh("psql", "-qc", "DROP DATABASE IF EXISTS afterword_bench WITH (FORCE)", PG_ADMIN)


def report_code_order():
    """Whether the binary lays out the functions of src/code-order.txt in its order, and
    how many of them it still has: the others are laid out among the cold code
    (bench/code_order.py writes the file anew)."""
    with open(f"{ROOT}/src/code-order.txt") as f:
        wanted = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    address = {}
    for line in sh("nm", "--defined-only", f"{ROOT}/target/release/afterword").splitlines():
        parts = line.split()
        if len(parts) == 3:
            address[parts[2]] = int(parts[0], 16)
    found = [address[name] for name in wanted if name in address]
    in_order = sum(b > a for a, b in zip(found, found[1:])) >= 0.99 * (len(found) - 1)
    print(f"Code order: {len(found):,} of the {len(wanted):,} functions in src/code-order.txt are in the binary"
          + (", laid out in that order" if in_order else ", NOT laid out in that order (build.rs gave the linker no order)")
          + ("." if len(found) >= 0.9 * len(wanted) else "; run bench/code_order.py."), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="", help="measure only these (e.g. reader,posting); nginx beside them")
    parser.add_argument("--profile", metavar="FILE", help="record the server with perf into FILE while measuring")
    parser.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    parser.add_argument("--postgres-socket", metavar="DIR",
                        help="the site reaches PostgreSQL through its socket in DIR (else TCP on 127.0.0.1, "
                             "with TLS when the server offers it, unless --postgres-sslmode says otherwise)")
    parser.add_argument("--postgres-sslmode", metavar="MODE",
                        help="the sslmode of the site's URL over TCP (allow: no TLS unless the server insists)")
    args = parser.parse_args()
    global PG_SOCKET, PG_SSLMODE
    PG_SOCKET = args.postgres_socket
    PG_SSLMODE = args.postgres_sslmode
    for tool, package in (("wrk", "wrk"), ("nginx", "nginx-light"), ("psql", "postgresql-client")):
        if not shutil.which(tool):
            subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "afterword", "--example", "generate"],
                       cwd=ROOT, check=True)
    report_code_order()
    cache = os.path.join(ROOT, "target", "bench-data")
    os.makedirs(cache, exist_ok=True)
    for backend in args.backends.split(","):
        for size in args.sizes.split(","):
            run(backend, size, args, cache)


if __name__ == "__main__":
    main()
