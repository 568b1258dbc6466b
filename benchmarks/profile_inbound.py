"""Where the time of one inbound message goes, in-process (no gunicorn, no wrk).

    python benchmarks/profile_inbound.py [--requests 500] [--url URL] [--profile [--sort tottime]]

Seeds the example app (``seed.py``, 10 bound numbers) on a SQLite file in WAL mode (or
``--url``; on PostgreSQL, in a fresh schema ``xsms_profile``), posts distinct signed
inbound SMS through Flask's test client and prints the milliseconds (wall and CPU) per
request, the SQL statements and commits per request and, with ``--profile``, the top of
``cProfile``'s listing in CPU time (``--sort`` picks the order).
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

    app = create("profile")
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

    def count_statement(*_: object) -> None:
        nonlocal statements
        statements += 1

    def count_commit(*_: object) -> None:
        nonlocal commits
        commits += 1

    def post(params: dict[str, str], signature: str) -> None:
        response = client.post(WEBHOOK_PATH, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and b"<Message>" in response.data, response.data

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
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
