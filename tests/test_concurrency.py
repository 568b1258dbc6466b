"""Several OS processes at once on one PostgreSQL database: the database decides."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms._extension import get_state
from flask_xsms.models import NumberBinding
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory
from .signing import inbound_params
from .signing import sign
from .webhooks_support import Bound

pytestmark = pytest.mark.postgresql

ROOT = pathlib.Path(__file__).resolve().parent.parent
NUMBER = "+14155550177"

#: One process's save: wait for the common start, then bind NUMBER in one domain.
SAVE = """
import json, sys, time
import sqlalchemy as sa
from tests.hostapp import create_host_app
from flask_xsms import Pair
from flask_xsms.errors import BindingError
from flask_xsms._extension import get_state
from flask_xsms.numbers import replace_bindings

url, domain_id, application_id, number, start = sys.argv[1:]
app = create_host_app(url)
with app.app_context():
    domain = app.extensions["test_directory"].domains[domain_id]
    session = get_state(app).session
    session.execute(sa.text("SELECT 1"))  # connect before the start
    session.rollback()
    time.sleep(max(0.0, float(start) - time.time()))
    try:
        replace_bindings(domain, [Pair(number, application_id)])
    except BindingError as e:
        errors = [x.as_dict() for x in e.errors]
        print(json.dumps({"won": False, "domain": domain_id, "errors": errors}))
    else:
        print(json.dumps({"won": True, "domain": domain_id}))
"""


@pytest.fixture
def pg_app(app: Flask, database_url: str, postgresql_url: str) -> Flask:
    if database_url != postgresql_url:
        pytest.skip("processes share a PostgreSQL database")
    return app


def test_one_number_saved_into_several_domains_at_once_goes_to_one(
    pg_app: Flask, directory: Directory, database_url: str
) -> None:
    # the three domains of account acme, each saving the number for its Customer Assistant
    contenders = [("1", "11"), ("2", "21"), ("3", "31")] * 2
    for domain_id, _ in contenders:
        replace_bindings(directory.domains[domain_id], [])  # the integrations exist
    start = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SAVE, database_url, d, a, NUMBER, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d, a in contenders
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    # two saves of one domain both succeed (the second replaces the first); one domain wins
    winners = {r["domain"] for r in results if r["won"]}
    assert len(winners) == 1, results
    for loser in (r for r in results if not r["won"]):
        (error,) = loser["errors"]
        assert (error["row"], error["field"]) == (0, "phone_number")
        assert error["message"]
    session = get_state(pg_app).session
    session.rollback()
    owners = session.scalars(sa.select(NumberBinding.domain_id).filter_by(phone_number=NUMBER))
    assert set(owners) == winners


@pytest.fixture
def server(
    pg_app: Flask, bound: Bound, database_url: str, tmp_path: pathlib.Path
) -> t.Iterator[tuple[str, pathlib.Path]]:
    """gunicorn, two worker processes of four threads each, on the test's database."""
    calls = tmp_path / "calls.txt"
    calls.touch()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "XSMS_SERVED_DATABASE_URL": database_url,
        "XSMS_SERVED_CALLS": str(calls),
    }
    gunicorn = pathlib.Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            *("-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}"),
            "tests.served:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/nowhere", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                assert time.time() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield base, calls
    finally:
        process.terminate()
        process.wait(10)


def deliver(url: str, params: dict[str, str]) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(params).encode()
    headers = {"X-Twilio-Signature": sign(url, params)}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_copies_of_one_message_sid_at_a_multi_process_server_reach_the_chatbot_once(
    bound: Bound, server: tuple[str, pathlib.Path]
) -> None:
    base, calls = server
    url = base + bound.urls.request_url.split("localhost", 1)[1]
    params = inbound_params(Body="same time")
    copies = 8
    barrier = threading.Barrier(copies)
    answers: list[tuple[int, bytes] | None] = [None] * copies

    def copy(i: int) -> None:
        barrier.wait()
        answers[i] = deliver(url, params)

    threads = [threading.Thread(target=copy, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(answers) == {answers[0]} and answers[0] is not None
    status, body = answers[0]
    assert status == 200
    root = ET.fromstring(body)
    assert [m.findtext("Body") or m.text for m in root] == ["once: same time"]
    assert [line.split()[1] for line in calls.read_text().splitlines()] == [params["MessageSid"]]
    assert len(bound.messages(sid=params["MessageSid"])) == 1
