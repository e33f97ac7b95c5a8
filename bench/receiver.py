#!/usr/bin/python3
"""A webhook receiver for the realistic workloads: answers every POST with
200 and appends one line per POST to a file, so the driver can check how
many alerts a run sent.

    receiver.py PORT_FILE LOG_FILE

Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until
killed or until its parent (the driver) is gone.  The line is written and
flushed before the answer, so once the alerting process has its 200 the
line is in the file.
"""
import http.server
import os
import sys
import threading
import time

PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        with open(LOG_FILE, "a") as f:
            f.write("alert\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


def orphan_watch(parent):
    """Ends the receiver when the driver that started it is gone (killed
    before it could stop us)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=orphan_watch, args=(os.getppid(),),
                 daemon=True).start()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.replace(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
