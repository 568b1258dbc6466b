from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from flask_xsms import Pair
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.models import metadata
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["xsms", *args])
    return result.exit_code, result.output


def test_create_tables(app: Flask) -> None:
    with app.app_context():
        metadata.drop_all(get_state().db.engine)
    code, output = run(app, "create-tables")
    assert code == 0 and "flask-xsms tables are ready" in output
    with app.app_context():
        names = sa.inspect(get_state().db.engine).get_table_names()
    assert {"xsms_integration", "xsms_number_binding", "xsms_message"} <= set(names)


def test_numbers_when_none_are_bound(app: Flask) -> None:
    assert run(app, "numbers") == (0, "No numbers are bound.\n")
    assert run(app, "numbers", "--domain", "1") == (0, "This IA Domain has no numbers.\n")


def test_numbers_lists_domain_application_and_request_url(
    app: Flask, directory: Directory
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    with app.app_context():
        replace_bindings(directory.domains["2"], [Pair("+1 415 555 0101", "21")])
        replace_bindings(directory.domains["1"], [Pair("+14155550100", "12")])
        care_hook = create_integration(directory.domains["1"]).webhook_id
        sales_hook = create_integration(directory.domains["2"]).webhook_id
    code, output = run(app, "numbers")
    assert code == 0
    lines = [line.split() for line in output.splitlines()]
    assert lines[0] == ["Phone", "Number", "IA", "Domain", "Application", "Request", "URL"]
    assert lines[1:] == [
        ["+14155550100", "Customer", "Care", "(production)", "Care", "Agent", "Helper",
         f"https://sms.example.com/xsms/hooks/{care_hook}/sms"],
        ["+14155550101", "Sales", "(production)", "Sales", "Assistant",
         f"https://sms.example.com/xsms/hooks/{sales_hook}/sms"],
    ]
    code, output = run(app, "numbers", "--domain", "2")
    assert code == 0 and "+14155550101" in output and "+14155550100" not in output


def test_real_flask_command_without_a_public_base_url_shows_the_path(tmp_path: Path) -> None:
    """Run as operators do, in a process of its own: ``flask --app example_app xsms …``."""
    env = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.sqlite'}",
        "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    env.pop("FLASK_XSMS_PUBLIC_BASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "example_app"]
    setup = subprocess.run([*flask, "init-db"], env=env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr
    bind = subprocess.run(
        [
            sys.executable,
            "-c",
            "from example_app import create_app; from flask_xsms import Pair;"
            "from flask_xsms.numbers import replace_bindings; from example_app.host import load_domain;"
            "app = create_app();"
            "ctx = app.app_context(); ctx.push();"
            "replace_bindings(load_domain('1'), [Pair('+14155550100', '1')])",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bind.returncode == 0, bind.stderr
    listed = subprocess.run([*flask, "xsms", "numbers"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    row = listed.stdout.splitlines()[1].split()
    assert row[0] == "+14155550100"
    assert row[-1].startswith("/xsms/hooks/") and row[-1].endswith("/sms")
