"""flask-xsms load benchmark: the full inbound path against minimal webhooks, same run.

    make bench                       # or: python benchmarks/run.py [--reps 3] [--seconds 10]

Needs wrk, gunicorn and a PostgreSQL server (BENCH_POSTGRESQL_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test; --no-postgresql skips it). Prints
Markdown tables: requests/s, p50/p99 latency and errors of each webhook with its ratio to
the minimal webhook on the same database, the example app with XSMS_CHATBOT_VIA "process"
(the demo bot answers in TwiML) and "celery" (the Request URL stores the message and
enqueues xsms.answer on Redis, BENCH_CELERY_BROKER; no worker runs and the queue is purged
after each run); inbound latency with 10 and with 100,000 bound numbers; the settings page
render time with 1,000 numbers in a domain.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import sqlalchemy as sa

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_app import purge_queue  # noqa: E402
from bench_app import WEBHOOK_PATH  # noqa: E402

DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROW = re.compile(r"^\| (\S+) \|")


def fresh_schema(url: str, schema: str) -> str:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def seed(url: str, count: int) -> None:
    subprocess.run([sys.executable, str(HERE / "seed.py"), url, str(count)], check=True, cwd=HERE)


def compare(title: str, specs: list[str], args: argparse.Namespace, **env: str) -> None:
    print(f"\n### {title}\n", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "harness" / "compare.py"),
            "--reps",
            str(args.reps),
            "--seconds",
            str(args.seconds),
            *specs,
        ],
        env={**os.environ, **env},
        check=False,
    )
    if any("celery" in spec for spec in specs):
        print(f"\n({purge_queue()} xsms.answer tasks purged from the benchmark's queue)")


def settings_page_ms(url: str, numbers: int = 1000, rounds: int = 30) -> tuple[float, float]:
    """Median and max render time of a settings page with ``numbers`` rows, in-process."""
    from example_app import create_app
    from example_app import init_database
    from example_app.models import db
    from flask_xsms.integrations import create_integration
    from flask_xsms.models import NumberBinding
    from example_app.host import load_domain

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        init_database()
        domain = load_domain("1")
        integration = create_integration(domain)
        application_id = next(
            a.id for a in app.extensions["xsms"].applications(domain) if a.bindable
        )
        db.session.execute(
            sa.insert(NumberBinding),
            [
                {
                    "integration_id": integration.id,
                    "account_id": domain.account_id,
                    "environment": domain.environment,
                    "domain_id": domain.id,
                    "application_id": application_id,
                    "phone_number": f"+1628{n:07d}",
                    "position": n,
                }
                for n in range(numbers)
            ],
        )
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "demo@example.com", "password": "demo"})
    times = []
    for _ in range(rounds + 3):
        start = time.perf_counter()
        response = client.get("/xsms/domains/1/twilio-sms")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and response.text.count("+1628") >= numbers
    times = times[3:]  # the first renders compile templates
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument(
        "--ratios-only", action="store_true", help="skip the bound-numbers and settings-page runs"
    )
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="xsms-bench-"))
    env = {
        "BENCH_CHDIR": str(HERE),
        "BENCH_TO": "+14150012345",
        "BENCH_BODIES": os.environ.get("BENCH_BODIES", "60000"),
        "BENCH_BASELINE_SQLITE": str(work / "baseline.sqlite"),
        "BENCH_DB_SQLITE": f"sqlite:///{work / 'xsms-100k.sqlite'}",
        "BENCH_DB_SQLITE_10": f"sqlite:///{work / 'xsms-10.sqlite'}",
        "BENCH_DB_SQLITE_CELERY": f"sqlite:///{work / 'xsms-celery.sqlite'}",
    }
    synchronous = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "") or "FULL (SQLite's default)"
    print("# flask-xsms inbound benchmark\n")
    print(f"Durability: SQLite WAL, synchronous={synchronous}; PostgreSQL synchronous_commit=on.")
    print("Every webhook: 2 gunicorn sync workers, wrk 32 connections, distinct signed bodies.")
    print("Ratio: each row's rps over the minimal webhook's; targets process >= 0.4, celery >= 0.5.")
    seed(env["BENCH_DB_SQLITE"], 100_000)
    if not args.ratios_only:
        seed(env["BENCH_DB_SQLITE_10"], 10)
    # The Celery runs leave their turns waiting: a database of their own.
    shutil.copyfile(work / "xsms-100k.sqlite", work / "xsms-celery.sqlite")
    os.environ.update(env)

    xsms = f"{WEBHOOK_PATH}"
    compare(
        "SQLite: full inbound path vs minimal webhook",
        [
            "minimal-sqlite=baseline_app:app@/validated-sqlite",
            f'xsms-sqlite=bench_app:create("sqlite")@{xsms}',
            f'xsms-celery-sqlite=bench_app:create("sqlite-celery", via="celery")@{xsms}',
        ],
        args,
    )
    if not args.no_postgresql:
        url = os.environ.get("BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL)
        env_pg = {
            "BENCH_BASELINE_POSTGRESQL": fresh_schema(url, "xsms_bench_baseline"),
            "BENCH_DB_POSTGRESQL": fresh_schema(url, "xsms_bench"),
            "BENCH_DB_POSTGRESQL_CELERY": fresh_schema(url, "xsms_bench_celery"),
        }
        os.environ.update(env_pg)
        seed(env_pg["BENCH_DB_POSTGRESQL"], 100_000)
        seed(env_pg["BENCH_DB_POSTGRESQL_CELERY"], 100_000)
        compare(
            "PostgreSQL: full inbound path vs minimal webhook",
            [
                "minimal-postgresql=baseline_app:app@/validated-postgresql",
                f'xsms-postgresql=bench_app:create("postgresql")@{xsms}',
                f'xsms-celery-postgresql=bench_app:create("postgresql-celery", via="celery")@{xsms}',
            ],
            args,
        )
    if args.ratios_only:
        return 0
    compare(
        "Inbound latency by bound numbers (SQLite, 4 connections)",
        [
            f'numbers-10=bench_app:create("sqlite-10")@{xsms}',
            f'numbers-100000=bench_app:create("sqlite")@{xsms}',
        ],
        args,
        BENCH_CONNECTIONS="4",
    )
    median, worst = settings_page_ms(f"sqlite:///{work / 'settings.sqlite'}")
    print("\n### Settings page with 1,000 numbers in a domain (SQLite, in-process)\n")
    print("| median ms | max ms | target |\n|---|---|---|")
    print(f"| {median:.1f} | {worst:.1f} | < 150 ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
