"""A slow chatbot (2 s, as an LLM call) under a steady stream of SMS, per XSMS_CHATBOT_VIA.

    python benchmarks/slow_chatbot.py [--rate 20] [--seconds 30] [--modes process,celery]

For each mode: a fresh PostgreSQL schema ``xsms_slow`` (``BENCH_POSTGRESQL_URL``) seeded
by ``seed.py``; ``slow_app:create()`` under gunicorn (2 gthread workers x 8 threads); in
"celery" mode a Celery worker (``--pool threads --concurrency 48``) on Redis database 13;
a local stand-in for Twilio's REST API that counts the replies sent per customer. An
open-loop sender posts RATE signed SMS per second for SECONDS seconds, each from a new
customer, each with a 15 s timeout as Twilio's; then the script waits (at most
``--drain`` seconds, from the last Request URL answer) until every customer is
answered. Prints one Markdown table: Request URL latency, answers, the customers' wait,
the database connections held, and the statuses of the stored messages.
"""
from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import sqlalchemy as sa

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "harness"))

from bench_app import AUTH_TOKEN  # noqa: E402
from bench_app import purge_queue  # noqa: E402
from bench_app import WEBHOOK_PATH  # noqa: E402
from run import DEFAULT_POSTGRESQL  # noqa: E402
from run import fresh_schema  # noqa: E402
from run import seed  # noqa: E402
from seed import BENCH_TO  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from twilio_payload import build_params  # noqa: E402
from twilio_payload import form_encode  # noqa: E402

TWILIO_TIMEOUT = 15.0


class StandIn(ThreadingHTTPServer):
    """Twilio's Messages.json, locally: answers 201 and notes when each customer got what."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        self.lock = threading.Lock()
        self.sends: dict[str, list[tuple[float, str]]] = {}  # To -> (time, Body)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StandInHandler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:  # noqa: N802
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if not self.path.endswith("/Messages.json"):
            return self._answer(404, {"code": 20404, "status": 404})
        to, body = form["To"][0], form.get("Body", [""])[0]
        with self.server.lock:
            self.server.sends.setdefault(to, []).append((time.monotonic(), body))
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "queued",
            "to": to,
            "from": form.get("From", [None])[0],
            "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
            "body": body,
            "num_segments": "1",
            "error_code": None,
            "error_message": None,
        }
        self._answer(201, message)

    def _answer(self, status: int, data: dict[str, t.Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: t.Any) -> None:
        pass


@dataclasses.dataclass
class Sent:
    """One SMS posted to the Request URL, and what came of it."""

    customer: str
    sid: str
    at: float = 0.0
    latency: float | None = None  # None: no answer within TWILIO_TIMEOUT
    status: int = 0
    twiml_reply: bool = False


def signed_bodies(url: str, count: int) -> list[tuple[Sent, str, str]]:
    """``count`` signed inbound SMS, each from its own customer."""
    validator = RequestValidator(AUTH_TOKEN)
    salt = uuid.uuid4().hex[:8]
    out = []
    for i in range(count):
        params = build_params(i, to=BENCH_TO, salt=salt)
        params["From"] = f"+1555{i:07d}"
        signature = validator.compute_signature(url, params)
        out.append((Sent(params["From"], params["MessageSid"]), signature, form_encode(params)))
    return out


def post(port: int, sent: Sent, signature: str, body: str) -> None:
    sent.at = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TWILIO_TIMEOUT)
    try:
        conn.request("POST", WEBHOOK_PATH, body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        })
        response = conn.getresponse()
        text = response.read().decode()
        sent.latency, sent.status = time.monotonic() - sent.at, response.status
        sent.twiml_reply = f"answer to {sent.sid}" in text
    except (OSError, http.client.HTTPException):
        pass  # timed out (or refused): Twilio gives up and calls the Fallback URL
    finally:
        conn.close()


def send_open_loop(port: int, bodies: list[tuple[Sent, str, str]], rate: float) -> None:
    """Post at a fixed rate whatever the answers' latency (as Twilio does)."""
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=int(rate * TWILIO_TIMEOUT) + 50) as pool:
        for i, (sent, signature, body) in enumerate(bodies):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            pool.submit(post, port, sent, signature, body)


def answered(sent: Sent, stand_in: StandIn) -> int:
    """How many times the customer got the answer (TwiML or REST)."""
    with stand_in.lock:
        rest = sum(1 for _, body in stand_in.sends.get(sent.customer, ()) if sent.sid in body)
    return rest + sent.twiml_reply


def answer_wait(sent: Sent, stand_in: StandIn) -> float | None:
    """Seconds from the post to the customer's first answer."""
    times = [when for when, body in stand_in.sends.get(sent.customer, ()) if sent.sid in body]
    if sent.twiml_reply and sent.latency is not None:
        times.append(sent.at + sent.latency)
    return min(times) - sent.at if times else None


class Connections(threading.Thread):
    """Samples the app's PostgreSQL sessions every second: the most open, and the most
    "idle in transaction" (a connection held by a transaction that waits)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.most = self.idle_in_transaction = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        query = sa.text(
            "SELECT count(*), count(*) FILTER (WHERE state = 'idle in transaction')"
            " FROM pg_stat_activity WHERE application_name = 'xsms-slow'"
        )
        while not self.stopped.wait(1.0):
            with self.engine.connect() as conn:
                total, idle = conn.execute(query).one()
            self.most = max(self.most, total)
            self.idle_in_transaction = max(self.idle_in_transaction, idle)


def start(cmd: list[str], env: dict[str, str], log: pathlib.Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, env=env, cwd=HERE, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(40)  # gunicorn lets running chatbots finish (25 s at most)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not answer in {timeout} s")


def wait_for_line(log: pathlib.Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{text!r} not in {log} after {timeout} s")
        time.sleep(0.2)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def statuses(url: str) -> str:
    """Counts of the stored messages by direction and status."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT direction, status, count(*) FROM xsms_message GROUP BY 1, 2 ORDER BY 1, 2"
        )).all()
    engine.dispose()
    return ", ".join(f"{d[:2]} {s} {n}" for d, s, n in rows)


def run_mode(mode: str, args: argparse.Namespace, work: pathlib.Path) -> dict[str, t.Any]:
    base = os.environ.get("BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL)
    url = fresh_schema(base, "xsms_slow")
    seed(url, 1000)
    url = sa.make_url(url).update_query_dict({"application_name": "xsms-slow"}).render_as_string(
        hide_password=False
    )
    stand_in = StandIn()
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BENCH_DB_SLOW": url,
        "BENCH_SLOW_VIA": mode,
        "BENCH_SLOW_SECONDS": str(args.chatbot_seconds),
        "BENCH_SLOW_API": stand_in.url,
        "BENCH_SLOW_PUBLIC": public,
        "BENCH_SLOW_POOL": str(args.threads * 2 + 4),
    }
    procs = []
    if mode == "celery":
        purge_queue()
        procs.append(start(
            [sys.executable, "-m", "celery", "-A", "slow_app:celery", "worker", "-l", "info",
             "--pool", "threads", "--concurrency", str(args.concurrency), "-Q",
             os.environ.get("BENCH_CELERY_QUEUE", "xsms-bench"), "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            {**env, "BENCH_SLOW_POOL": str(args.concurrency + 2)},
            work / f"celery-{mode}.log",
        ))
    procs.append(start(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread", "--threads",
         str(args.threads), "--timeout", "30", "--graceful-timeout", "30", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "slow_app:create()"],
        env,
        work / f"gunicorn-{mode}.log",
    ))
    try:
        wait_ready(port)
        if mode == "celery":
            wait_for_line(work / f"celery-{mode}.log", " ready.")
        bodies = signed_bodies(public + WEBHOOK_PATH, int(args.rate * args.seconds))
        sent = [b[0] for b in bodies]
        sampler = Connections(base)
        sampler.start()
        t0 = time.monotonic()
        send_open_loop(port, bodies, args.rate)
        sending = time.monotonic() - t0
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and not all(answered(s, stand_in) for s in sent):
            time.sleep(0.5)
        drained = time.monotonic() - t0 - sending
        time.sleep(3)  # late duplicates
        counts = [answered(s, stand_in) for s in sent]
        waits = sorted(w for s in sent if (w := answer_wait(s, stand_in)) is not None)
        sampler.stopped.set()
        db_statuses = statuses(url)
    finally:
        for proc in reversed(procs):
            stop(proc)
        stand_in.shutdown()
        if mode == "celery":
            purge_queue()
    latencies = sorted(s.latency for s in sent if s.latency is not None)
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [float("nan")] * 99
    return {
        "mode": mode,
        "sent": len(sent),
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "max": latencies[-1] * 1000 if latencies else float("nan"),
        "over15": sum(1 for s in sent if s.latency is None),
        "non200": sum(1 for s in sent if s.latency is not None and s.status != 200),
        "twiml": sum(1 for s in sent if s.twiml_reply),
        "answered": sum(1 for c in counts if c),
        "never": sum(1 for c in counts if not c),
        "twice": sum(1 for c in counts if c > 1),
        "sending": sending,
        "drained": drained,
        "wait50": statistics.median(waits) if waits else float("nan"),
        "waitmax": waits[-1] if waits else float("nan"),
        "wait15": sum(1 for w in waits if w > TWILIO_TIMEOUT),
        "connections": f"{sampler.most} / {sampler.idle_in_transaction}",
        "db": db_statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20, help="SMS per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--drain", type=float, default=120, help="most seconds to wait after")
    parser.add_argument("--modes", default="process,celery")
    parser.add_argument("--chatbot-seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, default=48, help="Celery worker threads")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="xsms-slow-"))
    results = [run_mode(mode, args, work) for mode in args.modes.split(",")]
    print(f"\n{args.rate:g} SMS/s for {args.seconds:g} s, chatbot {args.chatbot_seconds:g} s;"
          f" gunicorn {args.workers} x gthread {args.threads}; Celery threads x{args.concurrency}"
          f" (logs in {work})\n")
    print("| mode | sent | Request URL p50 / p99 / max ms | Request URL > 15 s | non-200"
          " | answered (in TwiML) | never answered | answered twice"
          " | customer's wait median / max s | waits > 15 s | all answered, s after sending"
          " | DB connections most / idle in transaction | stored messages |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['mode']} | {r['sent']} | {r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f}"
              f" | {r['over15']} | {r['non200']} | {r['answered']} ({r['twiml']}) | {r['never']}"
              f" | {r['twice']} | {r['wait50']:.1f} / {r['waitmax']:.1f} | {r['wait15']}"
              f" | {r['drained']:.1f} | {r['connections']} | {r['db']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
