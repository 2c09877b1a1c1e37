#!/usr/bin/python3
"""A stand-in for `tardigrade start` and `tardigrade init`, so that the
tests of tools/cluster run before the multi-node node exists.

    fake_node.py start --store DIR --listen H:P --sql-listen H:P
                 --http-listen H:P --join ... --insecure [--raft-log-limit N]
    fake_node.py init --host H:HTTPPORT

`start` records its arguments in DIR/argv.json, runs the real binary's
start-single-node (TD_REAL_TARDIGRADE) for SQL on --sql-listen (and its
RPC on --listen), and serves the
multi-node HTTP interface itself on --http-listen:

    GET /health           200
    GET /health?ready=1   200 once the cluster is initialised and SQL
                          accepts connections, else 503
    GET /_fake/init       200 the first time for the cluster, 409 after

"The cluster" is the directory holding DIR (tools/cluster's --dir): the
file fake-initialized there says it was initialised. SIGTERM stops the
real node and exits 0; the real node dies with this process (PDEATHSIG),
so a SIGKILL of the fake takes it down too, as with a real node.

`init` asks GET /_fake/init and prints what the real `tardigrade init`
prints.
"""

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PR_SET_PDEATHSIG = 1


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def die_with_parent():
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def sql_accepts(addr):
    try:
        socket.create_connection(split(addr), timeout=1).close()
        return True
    except OSError:
        return False


def serve(args, marker):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                self.answer(200, "ok")
            elif self.path == "/health?ready=1":
                ready = os.path.exists(marker) and sql_accepts(args.sql_listen)
                self.answer(200 if ready else 503, "ready" if ready else "not ready")
            elif self.path == "/_fake/init":
                try:
                    os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                    self.answer(200, "initialized")
                except FileExistsError:
                    self.answer(409, "already initialized")
            else:
                self.answer(404, "not found")

        def answer(self, status, text):
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(split(args.http_listen), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start(args):
    os.makedirs(args.store, exist_ok=True)
    with open(os.path.join(args.store, "argv.json"), "w") as f:
        json.dump(sys.argv[1:], f)
    marker = os.path.join(os.path.dirname(os.path.abspath(args.store)), "fake-initialized")
    node = subprocess.Popen([os.environ["TD_REAL_TARDIGRADE"], "start-single-node", "--store",
                             os.path.join(args.store, "real"), "--listen", args.listen, "--sql-listen",
                             args.sql_listen, "--http-listen", "127.0.0.1:0", "--insecure"],
                            preexec_fn=die_with_parent)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    server = serve(args, marker)
    while not stopping.wait(0.2):
        if node.poll() is not None:
            return 1
    server.shutdown()
    node.terminate()
    return node.wait()


def init(args):
    try:
        with urllib.request.urlopen(f"http://{args.host}/_fake/init", timeout=5):
            return 0
    except urllib.error.HTTPError as e:
        if e.code == 409:
            print("tardigrade init: cluster is already initialized", file=sys.stderr)
        else:
            print(f"tardigrade init: HTTP {e.code}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as e:
        print(f"tardigrade init: cannot reach {args.host}: {e}", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start")
    for flag in ("--store", "--listen", "--sql-listen", "--http-listen", "--join"):
        s.add_argument(flag, required=True)
    s.add_argument("--insecure", action="store_true", required=True)
    s.add_argument("--raft-log-limit", type=int)
    sub.add_parser("init").add_argument("--host", required=True)
    args = p.parse_args()
    return start(args) if args.command == "start" else init(args)


if __name__ == "__main__":
    sys.exit(main())
