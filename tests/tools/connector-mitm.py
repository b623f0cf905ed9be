#!/usr/bin/env python3
"""A hostile yubihsm-connector for the session tests: it forwards the
connector's HTTP API to the real one (rombsr-yubihsm-emu), and does one
thing to the n-th Session Message (command 0x05) it carries, as someone
on the network path could:

  flip-request:N   inverts one byte of the encrypted command
  replay-request:N sends the previous Session Message again instead
  flip-response:N  inverts one byte of the device's encrypted answer
  cut-after:N      answers 503 to everything after the n-th, as a connector
                   that lost the device would (an interrupted ceremony)

Usage: connector-mitm.py UPSTREAM_PORT PORT_FILE MODE
It listens on 127.0.0.1 (a free port, written to PORT_FILE) until killed.
"""
import http.client
import http.server
import os
import sys

upstream = int(sys.argv[1])
port_file = sys.argv[2]
mode, _, nth = sys.argv[3].partition(":")
nth = int(nth or 0)
seen = {"n": 0, "previous": None}


def forward(method, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
    headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def flip(data, offset):
    b = bytearray(data)
    b[offset] ^= 0xFF
    return bytes(b)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(*forward("GET", self.path, None))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = False
        if mode == "cut-after" and seen["n"] >= nth:
            self.answer(503, b"")
            return
        if body[:1] == b"\x05":
            seen["n"] += 1
            target = seen["n"] == nth
            if target and mode == "flip-request":
                # After cmd(1) len(2) session(1): the ciphertext.
                body = flip(body, 4)
            elif target and mode == "replay-request" and seen["previous"] is not None:
                body = seen["previous"]
            seen["previous"] = body
        status, data = forward("POST", self.path, body)
        if target and mode == "flip-response" and len(data) > 5:
            data = flip(data, 4)
        self.answer(status, data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = port_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, port_file)
server.serve_forever()
