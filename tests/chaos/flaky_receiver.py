#!/usr/bin/python3
"""A flapping HTTP receiver for tests/chaos: each request gets an answer
drawn from the weights in a control file (rewritten by the driver while
it runs): "ok" (200), "500", "429" (with Retry-After: 1), "slow" (200
after DELAY seconds, past the client's timeout) or "drop" (the connection
is closed without an answer).  Every request is logged as one JSON line:
time, the alert id (the body's alert_id, else the Idempotency-Key
header), run_id, step, event and the answer given ("drop" included).

usage: flaky_receiver.py --log LOG --control FILE --port N [--delay S]
"""
import argparse
import http.server
import json
import random
import socketserver
import threading
import time

lock = threading.Lock()


def pick(control):
    try:
        with open(control, encoding="utf-8") as f:
            w = json.load(f)
    except (OSError, ValueError):
        w = {"ok": 1}
    modes = [m for m in w if w[m] > 0] or ["ok"]
    return random.choices(modes, [w.get(m, 1) for m in modes])[0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        try:
            j = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            j = {}
        if not isinstance(j, dict):
            j = {}
        mode = pick(self.server.args.control)
        rec = {
            "time": time.time(),
            "alert_id": j.get("alert_id")
            or self.headers.get("Idempotency-Key"),
            "run_id": j.get("run_id"),
            "step": j.get("step"),
            "event": j.get("event"),
            "answer": mode,
        }
        if mode == "slow":
            time.sleep(self.server.args.delay)
        with lock:
            with open(self.server.args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec) + "\n")
        if mode == "drop":
            self.close_connection = True
            return
        status = {"ok": 200, "slow": 200, "500": 500, "429": 429}[mode]
        self.send_response(status)
        if mode == "429":
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, fmt, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout) closes the connection
        # while a slow answer is written: expected here, not news.
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=2.5)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.args = args
    srv.serve_forever()


if __name__ == "__main__":
    main()
