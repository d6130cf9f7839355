#!/usr/bin/env python3
"""Verify a bchpay webhook signature (Python 3, standard library only).

In a receiver, pass the raw request body (bytes, before any JSON parsing) and
the Bchpay-Signature header, e.g. in Flask:
    verify(SECRET, request.headers.get("Bchpay-Signature", ""), request.get_data())

From a shell: python3 verify.py SECRET SIGNATURE_HEADER BODY_FILE  (exit 0: valid)
"""
import hashlib
import hmac
import sys
import time

TOLERANCE_SECS = 300  # refuse older (or future) signatures: replays


def verify(secret, header, body, now=None):
    """True if `header` signs the raw `body` (bytes) with `secret` (bytes), recently."""
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not (t.isascii() and t.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(t)) > TOLERANCE_SECS:
        return False
    expected = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), v1.encode())


if __name__ == "__main__":
    secret, header, body_file = sys.argv[1:4]
    with open(body_file, "rb") as f:
        ok = verify(secret.encode(), header, f.read())
    print("valid" if ok else "invalid")
    sys.exit(0 if ok else 1)
