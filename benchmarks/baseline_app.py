"""Minimal hand-written Twilio webhooks: what flask-xsms is measured against.

Each route checks X-Twilio-Signature with twilio's RequestValidator (403 if bad), looks
``To`` up among 100,000 numbers with one indexed query, INSERTs the message, commits and
answers constant TwiML built with MessagingResponse:

  /validated-sqlite      SQLite file in WAL mode (BENCH_BASELINE_SQLITE)
  /validated-postgresql  PostgreSQL (BENCH_BASELINE_POSTGRESQL, a SQLAlchemy-style URL)

Durability is the databases' defaults unless BENCH_SQLITE_SYNCHRONOUS is set (SQLite:
synchronous=FULL, one fsync per commit; PostgreSQL: synchronous_commit=on). The same
settings apply to the flask-xsms app of the same run (see bench_app.py).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

import psycopg
from flask import Flask
from flask import request
from flask import Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

AUTH_TOKEN = os.environ.get("BENCH_AUTH_TOKEN", "bench-token")
SQLITE_PATH = os.environ.get("BENCH_BASELINE_SQLITE", "bench_baseline.sqlite")
POSTGRESQL_URL = os.environ.get("BENCH_BASELINE_POSTGRESQL", "")
SYNCHRONOUS = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "")
NUMBER_COUNT = 100_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS numbers (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    application TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id {serial} PRIMARY KEY,
    message_sid TEXT NOT NULL,
    number_id INTEGER NOT NULL REFERENCES numbers(id),
    from_number TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_messages_sid ON messages(message_sid);
"""

app = Flask(__name__)
validator = RequestValidator(AUTH_TOKEN)
_local = threading.local()


def bench_number(n: int) -> str:
    """The n-th number of the numbers table: +14150000000 .. +14150099999."""
    return f"+1415{n:07d}"


def _numbers() -> list[tuple[int, str, str]]:
    return [(n + 1, bench_number(n), f"app-{n % 97}") for n in range(NUMBER_COUNT)]


def init_sqlite() -> None:
    with open(SQLITE_PATH + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = sqlite3.connect(SQLITE_PATH)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA.format(serial="INTEGER"))
            if conn.execute("SELECT count(*) FROM numbers").fetchone()[0] < NUMBER_COUNT:
                with conn:
                    conn.execute("DELETE FROM numbers")
                    conn.executemany("INSERT INTO numbers VALUES (?, ?, ?)", _numbers())
        finally:
            conn.close()


def _pg_dsn() -> str:
    return POSTGRESQL_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def init_postgresql() -> None:
    with psycopg.connect(_pg_dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(4242)")
        conn.execute(SCHEMA.format(serial="SERIAL"))
        if conn.execute("SELECT count(*) FROM numbers").fetchone()[0] < NUMBER_COUNT:
            with conn.transaction():
                conn.execute("DELETE FROM messages")
                conn.execute("DELETE FROM numbers")
                with conn.cursor().copy("COPY numbers FROM STDIN") as copy:
                    for row in _numbers():
                        copy.write_row(row)
        conn.execute("SELECT pg_advisory_unlock(4242)")


def sqlite_db() -> sqlite3.Connection:
    conn = getattr(_local, "sqlite", None)
    if conn is None:
        conn = _local.sqlite = sqlite3.connect(SQLITE_PATH, timeout=10)
        if SYNCHRONOUS:
            conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    return conn


def postgresql_db() -> psycopg.Connection:
    conn = getattr(_local, "postgresql", None)
    if conn is None:
        conn = _local.postgresql = psycopg.connect(_pg_dsn())
    return conn


def twiml(xml: str, status: int = 200) -> Response:
    return Response(xml, status=status, mimetype="text/xml")


def signature_ok() -> bool:
    return validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", ""))


def reply() -> Response:
    response = MessagingResponse()
    response.message("hi")
    return twiml(str(response))


@app.post("/validated-sqlite")
def validated_sqlite() -> Response:
    if not signature_ok():
        return twiml("<Response/>", 403)
    form = request.form
    conn = sqlite_db()
    row = conn.execute("SELECT id FROM numbers WHERE phone = ?", (form["To"],)).fetchone()
    if row is None:
        return twiml("<Response/>", 404)
    with conn:
        conn.execute(
            "INSERT INTO messages (message_sid, number_id, from_number, body, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (form["MessageSid"], row[0], form["From"], form["Body"], time.time()),
        )
    return reply()


@app.post("/validated-postgresql")
def validated_postgresql() -> Response:
    if not signature_ok():
        return twiml("<Response/>", 403)
    form = request.form
    conn = postgresql_db()
    with conn.transaction():
        row = conn.execute("SELECT id FROM numbers WHERE phone = %s", (form["To"],)).fetchone()
        if row is None:
            return twiml("<Response/>", 404)
        conn.execute(
            "INSERT INTO messages (message_sid, number_id, from_number, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (form["MessageSid"], row[0], form["From"], form["Body"], time.time()),
        )
    return reply()


init_sqlite()
if POSTGRESQL_URL:
    init_postgresql()
