"""The ``flask xsms`` command group. Each command wraps a service."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .extension import get_state

xsms_cli = AppGroup("xsms", help="Twilio SMS integration (flask-xsms).")


@xsms_cli.command("create-tables")
def create_tables() -> None:
    """Create the extension's tables in the host's database (existing ones are kept)."""
    state = get_state()
    state.xsms.create_all()
    click.echo(f"flask-xsms tables are ready in {state.db.engine.url.render_as_string()}.")
