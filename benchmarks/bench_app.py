"""The example app as the load benchmark serves it, on a database the benchmark seeded.

gunicorn loads ``bench_app:create("sqlite")``, ``create("postgresql")`` … : each name is a
database prepared by ``seed.py`` (its URL in the environment variable
``BENCH_DB_<NAME>``). The Twilio credentials are the ones the harness signs with.
"""
from __future__ import annotations

import hashlib
import os

import sqlalchemy as sa
from flask import Flask

from example_app import create_app

AUTH_TOKEN = os.environ.get("BENCH_AUTH_TOKEN", "bench-token")
#: The AccountSid the harness puts in every body.
ACCOUNT_SID = "AC" + hashlib.md5(b"bench-account").hexdigest()
#: The webhook id seed.py gives the benchmark's domain, so the path is known in advance.
WEBHOOK_ID = "b" * 32
WEBHOOK_PATH = f"/xsms/hooks/{WEBHOOK_ID}/sms"


def database_url(name: str) -> str:
    return os.environ[f"BENCH_DB_{name.upper().replace('-', '_')}"]


def create(name: str) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(name),
            "XSMS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "XSMS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
    )
    synchronous = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "")
    if database_url(name).startswith("sqlite"):
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine

            @sa.event.listens_for(engine, "connect")
            def _pragmas(connection: object, record: object) -> None:
                cursor = connection.cursor()  # type: ignore[attr-defined]
                cursor.execute("PRAGMA journal_mode=WAL")
                if synchronous:
                    cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.close()

    return app
