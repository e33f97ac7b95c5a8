#!/usr/bin/python3
"""An HTTP receiver for the alerting tests, on 127.0.0.1.

Records every request as one JSON line in LOG: time, method, path,
query, headers (names lower-cased), body (text) and json (the body
parsed, or null).  Answers from a script: each line of SCRIPT is a JSON
object {"status": 500, "headers": {"Retry-After": "1"}, "body": "..."}
used for one request, in order; when the script is used up, requests get
200 with --body (default "ok").  "delay": N in a line waits N seconds
before answering (a receiver slower than the client's timeout).  The script file may be rewritten while
the receiver runs; lines already used are counted, not deleted.

usage: receiver.py --log LOG --port-file FILE [--script SCRIPT]
                   [--body TEXT] [--port N]
Writes the port it listens on to FILE once it accepts connections.
"""
import argparse
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
used = 0


def next_answer(args):
    global used
    if args.script and os.path.exists(args.script):
        with open(args.script, encoding="utf-8") as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        if used < len(lines):
            a = json.loads(lines[used])
            used += 1
            return a
    return {"status": 200, "body": args.body}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        text = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        url = urllib.parse.urlsplit(self.path)
        rec = {
            "time": time.time(),
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": text,
            "json": parsed,
        }
        with lock:
            answer = next_answer(self.server.args)
            with open(self.server.args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        if answer.get("delay"):
            time.sleep(float(answer["delay"]))
        out = answer.get("body", "ok").encode("utf-8")
        self.send_response(int(answer.get("status", 200)))
        for k, v in answer.get("headers", {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except OSError:
            pass  # the client gave up waiting (a "delay" line)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any

    def log_message(self, fmt, *a):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--script")
    ap.add_argument("--body", default="ok")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.args = args
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
