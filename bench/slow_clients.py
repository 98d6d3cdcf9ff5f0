#!/usr/bin/env python3
"""Benchmark: memory and connections under 500 slow readers and 500 slow senders.

    cargo build --release --bin afterword
    python3 bench/slow_clients.py [path/to/afterword]

Starts the binary on a new SQLite database with the demo articles, limits off and
short timeouts (--write-timeout 5 --body-timeout 5), then opens, from 127.0.0.2…,
500 connections that pipeline 200 requests for the front page each (megabytes of
answers) and never read, and
500 that declare a 60 KiB form body and send a byte a second. A normal client keeps
asking for /healthz meanwhile. Prints, every 2 s, the server's resident memory and open
connections, then the peak and what is left after the timeouts.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/afterword"
PORT = int(os.environ.get("BENCH_PORT", "18094"))
SLOW = 500


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) // 1024
    return 0


def open_connections(pid):
    return sum(1 for _ in os.listdir(f"/proc/{pid}/fd")) - 10


def reader(i, sockets):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((f"127.0.{1 + i // 250}.{2 + i % 250}", 0))
    try:
        s.connect(("127.0.0.1", PORT))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n" * 200)
        sockets.append(s)
    except OSError:
        s.close()


def sender(i, sockets):
    s = socket.socket()
    s.bind((f"127.0.{3 + i // 250}.{2 + i % 250}", 0))
    try:
        s.connect(("127.0.0.1", PORT))
        s.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Origin: http://x\r\nContent-Length: 61440\r\n\r\n"
        )
        sockets.append(s)
    except OSError:
        s.close()


def main():
    folder = tempfile.mkdtemp()
    server = subprocess.Popen(
        [BINARY, "serve", "--demo", "--bind", f"127.0.0.1:{PORT}", "--rate-limit", "0",
         "--auth-rate-limit", "0", "--write-timeout", "5", "--body-timeout", "5"],
        env=dict(os.environ, DATABASE_URL=f"sqlite://{folder}/bench.db", RUST_LOG="warn"),
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        idle = status(server.pid, "VmRSS")
        readers, sockets = [], []
        for i in range(SLOW):
            reader(i, readers)
            sender(i, sockets)
        stop = time.time() + 30
        normal = []

        def keep_asking():
            while time.time() < stop:
                started = time.time()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=5).read()
                    normal.append(time.time() - started)
                except OSError:
                    normal.append(None)
                time.sleep(0.2)

        asker = threading.Thread(target=keep_asking)
        asker.start()
        trickle_until = time.time() + 20
        while time.time() < stop:
            if time.time() < trickle_until:
                for s in sockets:
                    try:
                        s.send(b"a", socket.MSG_DONTWAIT)
                    except OSError:
                        pass
            print(f"rss {status(server.pid, 'VmRSS')} MiB, open fds {open_connections(server.pid)}", flush=True)
            time.sleep(2)
        asker.join()
        ok = [t for t in normal if t is not None]
        print(f"idle rss {idle} MiB, peak {status(server.pid, 'VmHWM')} MiB, "
              f"after the timeouts {status(server.pid, 'VmRSS')} MiB with {open_connections(server.pid)} fds open")
        print(f"normal client: {len(ok)} of {len(normal)} answered, slowest {max(ok) * 1000:.1f} ms")
        for s in sockets + readers:
            s.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
