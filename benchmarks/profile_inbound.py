"""Where the time of one inbound message goes, in-process (no gunicorn, no wrk).

    python benchmarks/profile_inbound.py [--requests 500] [--url URL] [--via celery]
        [--profile [--sort tottime]] [--show-sql]

Seeds the example app (``seed.py``, 10 bound numbers) on a SQLite file in WAL mode (or
``--url``; on PostgreSQL, in a fresh schema ``xsms_profile``), posts distinct signed
inbound SMS through Flask's test client and prints the milliseconds (wall and CPU) per
request, the SQL statements and commits per request and, with ``--profile``, the top of
``cProfile``'s listing in CPU time (``--sort`` picks the order); with ``--show-sql``, the
statements of the last request. ``--via celery``: XSMS_CHATBOT_VIA "celery", the message
stored and ``xsms.answer`` enqueued on the benchmark's Redis queue (purged after).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pathlib
import pstats
import subprocess
import sys
import tempfile
import time

import sqlalchemy as sa

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "harness"))

from bench_app import ACCOUNT_SID  # noqa: E402
from bench_app import AUTH_TOKEN  # noqa: E402
from bench_app import WEBHOOK_PATH  # noqa: E402
from seed import BENCH_TO  # noqa: E402
from twilio_payload import build_params  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--via", default="process", choices=["process", "celery"])
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--sort", default="cumulative", help="cProfile sort key (tottime, cumulative, ...)"
    )
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='xsms-profile-')}/xsms.sqlite"
    if url.startswith("postgresql"):
        from run import fresh_schema

        url = fresh_schema(url, "xsms_profile")  # never the server's public schema
    subprocess.run([sys.executable, str(HERE / "seed.py"), url, "10"], check=True, cwd=HERE)
    os.environ["BENCH_DB_PROFILE"] = url

    from bench_app import create
    from bench_app import purge_queue

    app = create("profile", via=args.via)
    client = app.test_client()
    validator = RequestValidator(AUTH_TOKEN)
    full_url = "http://localhost" + WEBHOOK_PATH
    bodies = []
    for i in range(args.requests + 50):
        params = build_params(i, to=BENCH_TO, salt=str(time.time()))
        params["AccountSid"] = ACCOUNT_SID
        bodies.append((params, validator.compute_signature(full_url, params)))

    statements = 0
    commits = 0
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine

    last_request: list[str] = []

    def count_statement(*args: object) -> None:
        nonlocal statements
        statements += 1
        last_request.append(" ".join(str(args[2]).split())[:110])

    def count_commit(*_: object) -> None:
        nonlocal commits
        commits += 1

    answer = b"<Message>" if args.via == "process" else b"<Response"

    def post(params: dict[str, str], signature: str) -> None:
        last_request.clear()
        response = client.post(WEBHOOK_PATH, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and answer in response.data, response.data

    for params, signature in bodies[:50]:  # warm-up: caches, first connections
        post(params, signature)
    sa.event.listen(engine, "before_cursor_execute", count_statement)
    sa.event.listen(engine, "commit", count_commit)
    # CPU time, not wall time: waiting for fsync or for the chatbot's thread is not counted.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    start, cpu_start = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for params, signature in bodies[50:]:
        post(params, signature)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    n = args.requests
    print(f"database: {sa.make_url(url).render_as_string()}")
    print(
        f"{n} requests: {elapsed / n * 1000:.2f} ms per request in-process,"
        f" {cpu / n * 1000:.2f} ms of CPU"
    )
    print(f"{statements / n:.1f} SQL statements and {commits / n:.1f} commits per request")
    if args.show_sql:
        print("statements of the last request:", *last_request, sep="\n  ")
    if profiler:
        stats = pstats.Stats(profiler)
        print_by_package(stats)
        stats.sort_stats(args.sort).print_stats(40)
    if args.via == "celery":
        purge_queue()
    return 0


def print_by_package(stats: pstats.Stats) -> None:
    """cProfile's own time (tottime) grouped by the top-level package of each function."""
    shares: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        parts = pathlib.Path(filename).parts
        if "site-packages" in parts:
            name = parts[parts.index("site-packages") + 1]
        elif "flask_xsms" in parts or "example_app" in parts or "benchmarks" in parts:
            name = next(p for p in parts if p in ("flask_xsms", "example_app", "benchmarks"))
        elif filename.startswith("~") or filename.startswith("<"):
            name = "builtins"
        else:
            name = "stdlib " + pathlib.Path(filename).stem
        shares[name] = shares.get(name, 0.0) + tottime
    total = sum(shares.values())
    print("CPU time by package (cProfile tottime):")
    for name, seconds in sorted(shares.items(), key=lambda kv: -kv[1])[:14]:
        print(f"  {name:32} {seconds / total:6.1%}")


if __name__ == "__main__":
    sys.exit(main())
