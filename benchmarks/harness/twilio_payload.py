#!/usr/bin/env python3
"""Build realistic, signed Twilio inbound-SMS webhook bodies.

Twilio POSTs an application/x-www-form-urlencoded body and signs it with
X-Twilio-Signature = base64(HMAC-SHA1(auth_token, URL + sorted(key+value))).
The signature covers the exact URL the app reconstructs (scheme, host, port,
path, query), so the URL given here must be the one the target sees.

wrk's Lua cannot compute HMAC-SHA1, so instead of varying MessageSid inside the
Lua script we pre-generate N distinct signed bodies (distinct MessageSid/SmsSid,
From, Body) and the Lua script cycles through them.

Usage:
  # one body, printed as two lines: signature, then body
  python twilio_payload.py --url http://127.0.0.1:8000/validated
  # N bodies, one per line as "SIGNATURE<TAB>BODY", for bench/twilio.lua
  python twilio_payload.py --url URL --count 20000 --out bodies.tsv
"""
import argparse
import functools
import hashlib
import os
import random
import sys
from urllib.parse import quote_plus

from twilio.request_validator import RequestValidator

DEFAULT_TOKEN = "bench-token"
# The baseline app's numbers table holds +14150000000 .. +14150099999.
DEFAULT_TO = "+14150012345"

_CITIES = [
    ("SAN FRANCISCO", "CA", "94105", "+1415"),
    ("NEW YORK", "NY", "10001", "+1212"),
    ("CHICAGO", "IL", "60601", "+1312"),
    ("AUSTIN", "TX", "78701", "+1512"),
    ("SEATTLE", "WA", "98101", "+1206"),
    ("BOSTON", "MA", "02108", "+1617"),
    ("DENVER", "CO", "80202", "+1303"),
    ("MIAMI", "FL", "33101", "+1305"),
]
_TEXTS = [
    "Hi",
    "What are your opening hours?",
    "I'd like to check order #{n}",
    "STATUS {n}",
    "Can someone call me back? Thanks!",
    "yes",
    "Where is my package? Tracking {n} says delayed",
    "Merci beaucoup, à demain",
]


def _sid(prefix, *parts):
    """A Twilio-shaped SID: two letters + 32 hex digits, deterministic."""
    return prefix + hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


def build_params(i, to=DEFAULT_TO, salt="", to_city=("SAN FRANCISCO", "CA", "94105")):
    """The form parameters Twilio sends for inbound SMS number ``i``.

    Distinct ``i`` (or ``salt``) gives a distinct MessageSid, From and Body.
    Order follows what Twilio sends; the signature does not depend on order.
    """
    rnd = random.Random(f"{salt}:{i}")
    city, state, zip_, prefix = _CITIES[rnd.randrange(len(_CITIES))]
    from_ = prefix + f"{rnd.randrange(2000000, 9999999):07d}"
    msid = _sid("SM", salt, i)
    body = _TEXTS[rnd.randrange(len(_TEXTS))].format(n=rnd.randrange(10000, 99999))
    return {
        "ToCountry": "US",
        "ToState": to_city[1],
        "SmsMessageSid": msid,
        "NumMedia": "0",
        "ToCity": to_city[0],
        "FromZip": zip_,
        "SmsSid": msid,
        "FromState": state,
        "SmsStatus": "received",
        "FromCity": city,
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": to_city[2],
        "NumSegments": "1",
        "MessageSid": msid,
        "AccountSid": _sid("AC", "bench-account"),
        "From": from_,
        "ApiVersion": "2010-04-01",
        "MessagingServiceSid": _sid("MG", "bench-service"),
    }


_quote = functools.lru_cache(maxsize=4096)(quote_plus)


def form_encode(params):
    """application/x-www-form-urlencoded, as urllib's urlencode but faster for bulk."""
    return "&".join(
        _quote(k) + "=" + (v if v.isascii() and v.isalnum() else _quote(v))
        for k, v in params.items()
    )


def signed_body(url, token, params):
    """Return (signature, urlencoded_body) for ``params`` posted to ``url``."""
    sig = RequestValidator(token).compute_signature(url, params)
    return sig, form_encode(params)


def write_bodies(path, url, token, count, to_numbers, salt):
    with open(path, "w", encoding="ascii") as fh:
        for i in range(count):
            to = to_numbers[i % len(to_numbers)]
            sig, body = signed_body(url, token, build_params(i, to=to, salt=salt))
            fh.write(f"{sig}\t{body}\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True,
                    help="exact URL the app sees, e.g. http://127.0.0.1:8000/validated")
    ap.add_argument("--token", default=os.environ.get("BENCH_AUTH_TOKEN", DEFAULT_TOKEN),
                    help="auth token (default: $BENCH_AUTH_TOKEN or bench-token)")
    ap.add_argument("--to", default=os.environ.get("BENCH_TO", DEFAULT_TO),
                    help="To number(s), comma-separated; bodies cycle through them")
    ap.add_argument("--count", type=int, default=1,
                    help="number of distinct bodies (default 1: print one)")
    ap.add_argument("--salt", default="",
                    help="makes MessageSids distinct from other runs (run.sh uses a random one)")
    ap.add_argument("--out", help="write SIGNATURE<TAB>BODY lines here (for twilio.lua)")
    args = ap.parse_args(argv)
    to_numbers = [t.strip() for t in args.to.split(",") if t.strip()]
    if args.out:
        write_bodies(args.out, args.url, args.token, args.count, to_numbers, args.salt)
        return 0
    for i in range(args.count):
        sig, body = signed_body(args.url, args.token,
                                build_params(i, to=to_numbers[i % len(to_numbers)], salt=args.salt))
        print(sig)
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
