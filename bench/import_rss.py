#!/usr/bin/env python3
"""Benchmark: peak memory of `afterword import-comments` on a large Disqus export.

    cargo build --release --bin afterword
    python3 bench/import_rss.py [path/to/afterword] [megabytes]

Writes a Disqus XML export of about `megabytes` MB (default 200): threads with
nested posts whose messages are HTML paragraphs of a few hundred to a few thousand
characters, a deleted and a spam post here and there. Then imports it into a new
SQLite database with the release binary and reports the import's wall time, what it
printed, and its peak resident memory (the child's ru_maxrss: VmHWM at exit). The
budget is 100 MB whatever the file's size. A second run of the same file must
create nothing; its time and peak are reported too.
"""

import os
import random
import resource
import subprocess
import sys
import tempfile
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/afterword"
MEGABYTES = int(sys.argv[2]) if len(sys.argv) > 2 else 200
BUDGET_MB = 100

WORDS = ("privacy market research energy policy climate software security budget election "
         "health transport housing science culture history football music courts trade").split()


def generate(path, megabytes):
    rnd = random.Random(42)
    target = megabytes * 1_000_000
    posts = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n'
                  '<disqus xmlns="http://disqus.com" '
                  'xmlns:dsq="http://disqus.com/disqus-internals">\n')
        threads = 2_000
        for t in range(threads):
            out.write(f'  <thread dsq:id="t{t}">\n    <id>page-{t}</id>\n'
                      f'    <link>https://blog.example/{t}/</link>\n'
                      f'    <title>Page {t} about {WORDS[t % len(WORDS)]}</title>\n'
                      '    <createdAt>2015-01-01T00:00:00Z</createdAt>\n  </thread>\n')
        written = out.tell()
        in_thread = []
        while written < target:
            t = posts % threads
            paragraphs = "".join(
                "<p>" + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(20, 120))) + "</p>"
                for _ in range(rnd.randint(1, 5)))
            parent = ""
            if posts >= threads and rnd.random() < 0.6:
                p = rnd.randrange(max(0, posts - 5 * threads), posts)
                if p % threads == t:
                    parent = f'\n    <parent dsq:id="p{p}"/>'
            deleted = "true" if rnd.random() < 0.02 else "false"
            spam = "true" if rnd.random() < 0.01 else "false"
            author = rnd.randrange(20_000)
            out.write(f'  <post dsq:id="p{posts}">\n    <id/>\n'
                      f'    <message><![CDATA[{paragraphs}]]></message>\n'
                      f'    <createdAt>2016-{1 + posts % 12:02d}-{1 + posts % 28:02d}T12:00:00Z</createdAt>\n'
                      f'    <isDeleted>{deleted}</isDeleted>\n    <isSpam>{spam}</isSpam>\n'
                      f'    <author>\n      <email>reader{author}@example.com</email>\n'
                      f'      <name>Reader {author}</name>\n      <isAnonymous>false</isAnonymous>\n'
                      f'      <username>reader{author}</username>\n    </author>\n'
                      f'    <thread dsq:id="t{t}"/>{parent}\n  </post>\n')
            posts += 1
            if posts % 1000 == 0:
                written = out.tell()
        out.write("</disqus>\n")
    return posts


def run(db, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    done = subprocess.run([BINARY, "import-comments", "--database-url", f"sqlite://{db}",
                           "--format", "disqus", path], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    # ru_maxrss of the children is the largest of any child so far: each run is
    # measured in its own process (see main).
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        sys.exit(f"import failed: {done.stderr}")
    return elapsed, max(peak_kb, before) / 1024, done.stdout


def main():
    if len(sys.argv) > 3 and sys.argv[3] == "--child":
        db, path = sys.argv[4], sys.argv[5]
        elapsed, peak, output = run(db, path)
        print(f"{elapsed:.1f} {peak:.1f}")
        print(output)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "disqus.xml")
        started = time.monotonic()
        posts = generate(path, MEGABYTES)
        size = os.path.getsize(path) / 1_000_000
        print(f"generated {path}: {size:.0f} MB, {posts} posts in {time.monotonic() - started:.0f} s")
        db = os.path.join(tmp, "import.db")
        subprocess.run([BINARY, "migrate", "--database-url", f"sqlite://{db}"], check=True, capture_output=True)
        worst = 0.0
        for label in ("first run", "second run"):
            # A fresh Python per run, so that each peak is that run's own.
            child = subprocess.run([sys.executable, __file__, BINARY, str(MEGABYTES), "--child", db, path],
                                   capture_output=True, text=True, check=True)
            first, _, output = child.stdout.partition("\n")
            elapsed, peak = (float(x) for x in first.split())
            worst = max(worst, peak)
            print(f"{label}: {elapsed:.1f} s, peak RSS {peak:.1f} MB")
            print("  " + output.strip().replace("\n", "\n  "))
        print(f"database: {os.path.getsize(db) / 1_000_000:.0f} MB")
        verdict = "within" if worst <= BUDGET_MB else "OVER"
        print(f"peak RSS {worst:.1f} MB: {verdict} the {BUDGET_MB} MB budget")
        if worst > BUDGET_MB:
            sys.exit(1)


if __name__ == "__main__":
    main()
