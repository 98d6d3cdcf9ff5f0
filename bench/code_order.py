#!/usr/bin/env python3
"""Writes src/code-order.txt: the functions a serving site runs, for the linker to lay
out together (build.rs passes the file to the release build's linker).

The kernel maps a program's code 64 KiB at a time around each page it runs, so
functions scattered through the binary keep most of its 17 MB of code resident though
a site runs a few MiB of it. Laid out side by side, what serving runs fills a few MiB.

The release binary runs under callgrind on SQLite and on PostgreSQL, from start-up
(with the demo articles) through readers, writers and moderators on the pages, the
API's reads, the embed, feeds and search, to a graceful stop. Every function of the
binary that ran is written out: first those both backends ran, then those of SQLite
alone, then of PostgreSQL alone (a site maps no code of the backend it does not use),
the busiest first within each.

The names carry hashes of the compiler's version and of each crate's version and
settings, so run it again after a new rustc or `cargo update`, and when the code has
changed much (`bench/run.py` says how much of the file a build still has). A function
missing from the file still runs; it is only laid out among the cold code. The file's
first line names the rustc it was written with; build.rs warns when another builds.

    python3 bench/code_order.py            # builds the release binary first
    python3 bench/code_order.py --no-build
"""

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the benchmark's browser-like client and databases)
from run import BASE, PASSWORD, ROOT, Client, sh  # noqa: E402

BINARY = f"{ROOT}/target/release/afterword"
OUT = f"{ROOT}/src/code-order.txt"


def ok(result, *expected):
    assert result[0] in expected, result
    return result


def workload(db_url):
    """What readers, writers, moderators and integrations do on a site."""
    anonymous = Client()
    for path in ("/", "/feed.atom", "/search?q=privacy", "/signup", "/login", "/api/v1/articles",
                 "/api/v1/counts", "/api/openapi.json", "/healthz", "/readyz", "/no-such-page", "/embed.js",
                 "/embed/login", "/embed/thread?url=https://example.com/benchmark"):
        anonymous.get(path)
    page = "/articles/benchmark-article"
    for encoding in ("gzip", "br", "identity"):
        anonymous.get(page, {"Accept-Encoding": encoding})
    status, body, _ = anonymous.get(page)
    for asset in set(re.findall(rb'/static/[\w.-]+', body)):
        anonymous.get(asset.decode(), {"Accept-Encoding": "br"})

    writer, reader, moderator = Client(), Client(), Client()
    for name, client in (("writer", writer), ("reader", reader), ("moderator", moderator)):
        ok(client.post("/signup", username=f"order{name}", email=f"order{name}@example.com", password=PASSWORD), 303)
    sh(BINARY, "admin", "set-role", "--database-url", db_url, "ordermoderator", "admin")
    ok(reader.post("/logout"), 303)
    ok(reader.post("/login", login="orderreader", password=PASSWORD), 303)

    ids = []
    for thread in range(12):
        _, location = ok(writer.post(f"/articles/benchmark-article/comments",
                                     body=f"Thread {thread}: **Markdown** with a [link](https://example.com/{thread}) and `code`."), 303)
        top = location.rsplit("comment-", 1)[1]
        ids.append(top)
        _, location = ok(reader.post("/articles/benchmark-article/comments", body=f"A reply to {thread}", parent_id=top), 303)
        reply = location.rsplit("comment-", 1)[1]
        writer.post(f"/articles/benchmark-article/comments", body="And back", parent_id=reply)
        reader.post(f"/comments/{top}/vote", value=1 if thread % 3 else -1)
    for client in (anonymous, writer, reader, moderator):
        for path in (page, f"{page}?sort=new", f"{page}?sort=top", f"{page}?sort=old", "/", "/search?q=markdown"):
            client.get(path, {"Accept-Encoding": "gzip"})
    first = ids[0]
    for path in (f"/comments/{first}", f"/comments/{first}/fragment", f"/comments/{first}/replies",
                 f"/comments/{first}/reply", f"/comments/{first}/edit", "/inbox", "/saved", "/settings",
                 "/users/orderwriter", "/users/orderwriter/comments.atom", f"{page}/comments.atom",
                 "/api/v1/me", f"/api/v1/articles/benchmark-article/comments", f"/api/v1/comments/{first}",
                 "/api/v1/users/orderwriter/comments", "/api/v1/search?q=markdown", "/settings/export"):
        writer.get(path)
    writer.post(f"/comments/{first}/edit", body="Edited **again**")
    writer.post(f"/comments/{ids[1]}/delete")  # the confirmation page
    writer.post(f"/comments/{ids[1]}/delete", confirm="yes")
    reader.post("/articles/benchmark-article/save")
    reader.get("/saved")
    reader.get("/inbox")
    writer.get("/inbox")
    writer.post("/inbox/read")
    reader.post(f"/comments/{ids[2]}/report", reason="spam", details="An advertisement")
    reader.post("/settings/profile", display_name="Order Reader", bio="Reads things")
    reader.post("/settings/notifications", email_replies="on")

    for path in ("/mod/reports", "/mod/queue", "/modlog", "/admin", "/admin/settings", "/admin/users",
                 "/admin/articles", "/admin/articles/new", "/admin/articles/benchmark-article/edit",
                 f"/mod/comments/{ids[2]}", "/mod/articles/benchmark-article", "/mod/users/orderwriter"):
        moderator.get(path)
    for action in ("remove", "restore", "pin", "unpin"):
        moderator.post(f"/mod/comments/{ids[3]}/{action}", reason="order")
    _, location = ok(moderator.post("/articles/benchmark-article/comments", body="A word from the moderators"), 303)
    moderator.post(f"/mod/comments/{location.rsplit('comment-', 1)[1]}/distinguish")
    moderator.post("/mod/articles/benchmark-article/lock", reason="order")
    moderator.post("/mod/articles/benchmark-article/unlock")
    ok(moderator.post("/mod/users/orderreader/ban", reason="order", duration="1d"), 303)
    reader.get(page)
    reader.post("/articles/benchmark-article/comments", body="Refused: banned")
    moderator.post("/mod/users/orderreader/unban")
    for client in (anonymous, writer, moderator):
        client.get(page, {"Accept-Encoding": "gzip"})
        client.get(page, {"Accept-Encoding": "gzip"})


def record(backend, work):
    db_url = bench.prepare_database(backend, "small", work, None)
    with open(f"{work}/article.json", "w") as f:
        json.dump(bench.BENCH_ARTICLE, f)
    sh(BINARY, "import-articles", "--database-url", db_url, f"{work}/article.json")
    out = f"{work}/callgrind.out"
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no", "--compress-pos=no",
         f"--callgrind-out-file={out}", BINARY, "serve", "--database-url", db_url, "--bind", f"127.0.0.1:{bench.PORT}",
         "--rate-limit", "0", "--auth-rate-limit", "0", "--comment-rate-limit", "0", "--comment-daily-limit", "0", "--demo"],
        env={**os.environ, "RUST_LOG": "warn"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(BASE + "/readyz", timeout=10).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the server did not start under callgrind")
        workload(db_url)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=600)
    return out


def functions(path, binary):
    """The binary's functions in a callgrind profile, with the instructions each ran."""
    costs = collections.Counter()
    in_binary, name, call = False, None, False
    with open(path) as f:
        for line in f:
            if call:  # the inclusive cost of a call, not the caller's own
                call = False
            elif line.startswith("calls="):
                call = True
            elif line.startswith("ob="):
                in_binary = os.path.realpath(line[3:].strip()) == binary
            elif line.startswith("fn="):
                # Deeper recursion is named `name'2` (callgrind's --separate-recs).
                name = re.sub(r"'\d+$", "", line[3:].strip()) if in_binary else None
                if name:
                    costs[name] += 0
            elif name and line[:1].isdigit():
                parts = line.split()
                if len(parts) >= 2:
                    costs[name] += int(parts[1])
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-build", action="store_true", help="use target/release/afterword as it is")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "afterword"], cwd=ROOT, check=True)
    binary = os.path.realpath(BINARY)
    symbols = set(sh("nm", "--defined-only", "--format=just-symbols", binary).split())
    backends = args.backends.split(",")
    ran = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="afterword-order-") as work:
            print(f"Recording on {backend} under callgrind (a few minutes) …", flush=True)
            ran[backend] = functions(record(backend, work), binary)
    total = collections.Counter()
    for costs in ran.values():
        total.update(costs)
    # What every backend runs first, then what each runs alone: a site on one backend
    # does not map the others' code. The busiest first within each.
    def group(name):
        users = [b for b in backends if name in ran[b]]
        return len(backends) - len(users), [backends.index(b) for b in users]
    ordered = [name for name in sorted(total, key=lambda n: (group(n), -total[n], n)) if name in symbols]
    rustc = sh("rustc", "--version", cwd=ROOT).strip()
    with open(OUT, "w") as f:
        f.write(f"# {rustc}\n" + "\n".join(ordered) + "\n")
    print(f"{len(ordered)} functions written to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
