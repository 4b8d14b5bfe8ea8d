#!/usr/bin/env python3
"""The local stack's stand-in for the web team's and the app team's backends (deploy/stack.sh starts it): prints
each back-channel logout and login webhook the gateway delivers. It checks the webhook's signature as a real
receiver must (HMAC-SHA256 of "<t>.<body>", compared in constant time, t recent); the logout token is only
decoded here: a real backend verifies it against the JWKS as it verifies web tokens (README "After the login")."""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["QRL_LOGIN_WEBHOOK_SECRET"].encode()
TOLERANCE_SECS = 300


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed(header, body):
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    expected = hmac.new(SECRET, parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts.get("t", "0"))) <= TOLERANCE_SECS
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/backchannel-logout":
            token = urllib.parse.parse_qs(body.decode()).get("logout_token", [""])[0]
            c = claims_of(token)
            print(f"back-channel logout: user {c['sub']}, web session {c['sid']} ended (jti {c['jti']})", flush=True)
            return self.answer(200)
        if self.path == "/login-webhook":
            if not signed(self.headers.get("Qrlogin-Signature", ""), body):
                print("login webhook with a bad signature: refused", flush=True)
                return self.answer(400)
            e = json.loads(body)
            place = (e.get("location") or {}).get("city") or "unknown place"
            print(f"new login: {e['user']} on {e['browser']}, {e['os']}, {place} (risk {e['risk']}, "
                  f"web session {e['sid']}): signature ok", flush=True)
            return self.answer(204)
        self.answer(404)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
