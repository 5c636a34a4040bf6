#!/usr/bin/env python3
"""A plain HTTP receiver on 127.0.0.1 (port 0): stores each POST body as
OUT_DIR/<n>-<path with / as _>.body and prints its port on stdout. Usage: receiver.py OUT_DIR"""
import http.server
import itertools
import os
import sys

out = sys.argv[1]
counter = itertools.count()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        name = f"{next(counter):05d}-{self.path.strip('/').replace('/', '_')}.body"
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)
        self.send_response(204 if "loki" in self.path else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
