"""The ``flask xsms`` command group. Each command wraps a service."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from . import migrate
from . import numbers
from .extension import get_state

xsms_cli = AppGroup("xsms", help="Twilio SMS integration (flask-xsms).")


@xsms_cli.command("create-tables")
def create_tables() -> None:
    """Create the extension's tables in the host's database (existing ones are kept)."""
    state = get_state()
    state.xsms.create_all()
    click.echo(f"flask-xsms tables are ready in {state.db.engine.url.render_as_string()}.")


@xsms_cli.command("numbers")
@click.option("--domain", "domain_id", help="Only this IA Domain (its id).")
def list_numbers(domain_id: str | None) -> None:
    """List bound numbers with their domain, application and Request URL."""
    rows = numbers.all_bindings(domain_id=domain_id)
    if not rows:
        click.echo("No numbers are bound." if domain_id is None else "This IA Domain has no numbers.")
        return
    table = [("Phone Number", "IA Domain", "Application", "Request URL")]
    for row in rows:
        table.append((row.phone_number, row.domain_label, row.application_name, row.request_url))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


@xsms_cli.group("db")
def db_group() -> None:
    """Schema migrations of the extension's tables (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the extension's tables to REVISION (default: the latest)."""
    migrate.upgrade(revision)
    click.echo(f"flask-xsms tables are at revision {migrate.current_revision()}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the extension's tables to REVISION ("base" drops them)."""
    migrate.downgrade(revision)
    click.echo(f"flask-xsms tables are at revision {migrate.current_revision() or 'base'}.")


@db_group.command("stamp")
@click.argument("revision", default="head")
def db_stamp(revision: str) -> None:
    """Mark REVISION as applied without touching tables (after create-tables)."""
    migrate.stamp(revision)
    click.echo(f"flask-xsms tables are marked as revision {migrate.current_revision()}.")


@db_group.command("current")
def db_current() -> None:
    """Show the revision of the extension's tables and the latest one."""
    current, head = migrate.current_revision(), migrate.head_revision()
    click.echo(f"current: {current or 'none (not migrated)'}")
    click.echo(f"latest:  {head}")
    if current != head:
        raise click.exceptions.Exit(1)
