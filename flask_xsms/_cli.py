"""The ``flask xsms`` command group. Each command wraps a service."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from . import _diagnostics as diagnostics
from . import migrate
from . import numbers
from . import outbound
from . import _retry as retry_service
from . import _simulator as simulator
from . import statuses
from . import twilio_setup
from .errors import DomainNotFound
from .errors import SendError
from .errors import XSMSError
from ._state import get_state
from ._inbound import wait_for_chatbots

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
        table.append(
            (numbers.describe(row.phone_number), row.domain_label, row.application_name,
             row.request_url)
        )
    _echo_table(table)


def _echo_table(table: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


@xsms_cli.command(
    "simulate", epilog="Example: flask xsms simulate --to +14155550100 --from +14155550123 hello"
)
@click.option("--to", "to", required=True, help="The bound Twilio number that gets the message.")
@click.option("--from", "from_", required=True, help="The customer's number.")
@click.option(
    "--domain", "domain_id", help="The IA Domain (its id), when several accounts bind the number."
)
@click.option("--fallback", is_flag=True, help="Post to the Fallback URL instead.")
@click.option("--profile-name", help="WhatsApp: the customer's profile name.")
@click.option(
    "--media-url", "media_urls", multiple=True, help="A public media URL (repeat for more)."
)
@click.argument("body")
def simulate(
    to: str,
    from_: str,
    domain_id: str | None,
    fallback: bool,
    profile_name: str | None,
    media_urls: tuple[str, ...],
    body: str,
) -> None:
    """Text BODY to a bound number as a customer, and print the TwiML answer.

    The message is signed with the account's Twilio credentials and posted through the
    app to the IA Domain's Request URL (or Fallback URL), as Twilio would post it. A
    WhatsApp sender (--to whatsapp:+…) gets a WhatsApp message.
    """
    try:
        binding = simulator.find_number(to, domain_id=domain_id)
        post = simulator.simulate_fallback if fallback else simulator.simulate_inbound
        result = post(
            binding,
            from_=from_,
            body=body,
            media_urls=list(media_urls),
            profile_name=profile_name,
        )
    except XSMSError as e:
        raise click.ClickException(_reason(e)) from None
    if not result.ok:
        raise click.ClickException(
            f"The webhook at {result.url} answered HTTP {result.status_code}"
            + (f": {result.body.strip()}" if result.body.strip() else ".")
        )
    click.echo(result.body)
    # A chatbot slower than XSMS_REPLY_TIMEOUT answers through the REST API: let it finish.
    wait_for_chatbots(timeout=60)


@xsms_cli.command(
    "send",
    epilog="Example: flask xsms send --domain 1 --from +14155550100 --to +14155550123 'Hi!'",
)
@click.option("--domain", "domain_id", required=True, help="The IA Domain (its id).")
@click.option("--from", "from_", required=True, help="A number bound in that IA Domain.")
@click.option("--to", "to", required=True, help="The customer's number.")
@click.option(
    "--content-sid", help="Send this approved template (HX…) instead of BODY (WhatsApp)."
)
@click.option(
    "--content-variable",
    "content_variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="A variable of the template (repeat for more).",
)
@click.argument("body", required=False, default="")
def send(
    domain_id: str,
    from_: str,
    to: str,
    content_sid: str | None,
    content_variables: tuple[str, ...],
    body: str,
) -> None:
    """Send BODY to a customer from a bound number, through Twilio's REST API; or, with
    --content-sid, an approved template (outside WhatsApp's 24-hour window)."""
    variables = dict(v.partition("=")[::2] for v in content_variables)
    if any("=" not in v for v in content_variables):
        raise click.BadParameter("give each as KEY=VALUE.", param_hint="--content-variable")
    try:
        messages = outbound.send(
            domain_id,
            from_number=from_,
            to=to,
            body=body,
            content_sid=content_sid,
            content_variables=variables or None,
        )
    except XSMSError as e:
        raise click.ClickException(_reason(e)) from None
    for message in messages:
        if message.status == statuses.PENDING:
            click.echo(
                f"Stored message {message.id} in the outbox; `flask xsms retry` sends it."
            )
        else:
            click.echo(f"Sent message {message.id}: {message.sid} ({message.status}).")


@xsms_cli.command("retry")
@click.option(
    "--limit", type=click.IntRange(min=1), help="At most this many messages of each kind."
)
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=retry_service.DEFAULT_INBOUND_CUTOFF,
    show_default=True,
    help="Seconds after which an unanswered inbound message is answered again.",
)
def retry(limit: int | None, older_than: float) -> None:
    """Send the outbound messages still pending, and answer inbound messages that
    never got an answer (see the docs, "Command line")."""
    items = retry_service.plan(limit=limit, older_than=older_than)
    if not items:
        click.echo("Nothing to retry.")
        return
    results = []
    with click.progressbar(
        items, label=f"Retrying {len(items)} message(s)", file=sys.stderr
    ) as bar:
        for item in bar:
            results.append(retry_service.run(item, older_than=older_than))
    for result in results:
        if not result.ok:
            click.echo(
                f"{result.item.direction.capitalize()} message {result.item.message_id}:"
                f" {result.outcome}: {result.detail}",
                err=True,
            )
    click.echo(retry_service.summary(results))
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)


def _reason(error: XSMSError) -> str:
    """The message of an error, without Werkzeug's "404 Not Found:" prefix."""
    if isinstance(error, SendError):
        text = error.message.rstrip(".")
        if error.code is not None:
            text += f" (Twilio error {error.code})"
        stored = error.sent_message
        if stored is not None:
            text += f". Stored as message {stored.id} ({stored.status})"
        return text + "."
    description = getattr(error, "description", None)
    return description if isinstance(description, str) and description else str(error)


@xsms_cli.command("doctor")
@click.option("--domain", "domain_id", help="Only this IA Domain (its id).")
def doctor(domain_id: str | None) -> None:
    """Check the configuration, credentials, Request URLs and recent refused webhooks.

    Tests each Request URL with a signed request when XSMS_PUBLIC_BASE_URL is set.
    Exits with status 1 when a check finds a problem.
    """
    checks = diagnostics.doctor(domain_id)
    for check in checks:
        click.echo(f"{'ok' if check.ok else 'PROBLEM':8} {check.name}: {check.text}")
    if not all(c.ok for c in checks):
        raise click.exceptions.Exit(1)


@xsms_cli.command("twilio-check")
@click.option("--domain", "domain_id", help="Only this IA Domain (its id).")
def twilio_check(domain_id: str | None) -> None:
    """Check in Twilio that each bound number sends its messages here.

    A WhatsApp sender is not looked up: it shows the URLs to set in the Twilio console.
    Exits with status 1 unless every number is configured.
    """
    results = _check(domain_id)
    _echo_statuses(results)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)


@xsms_cli.command("twilio-configure")
@click.option("--domain", "domain_id", help="Only this IA Domain (its id).")
@click.option("--yes", is_flag=True, help="Configure without asking first.")
def twilio_configure(domain_id: str | None, yes: bool) -> None:
    """Set the SMS URL and fallback URL of bound numbers in Twilio to this app's.

    Shows what it replaces and asks first, unless --yes. A WhatsApp sender is left alone:
    it is configured in the Twilio console. Exits with status 1 unless every number is
    configured afterwards.
    """
    results = _check(domain_id)
    to_change = [r for r in results if r.state == twilio_setup.NOT_CONFIGURED]
    if to_change:
        click.echo("This replaces in Twilio:")
        for status in to_change:
            click.echo(f"  {status.phone_number} ({status.domain_label}): {status.overwrites}")
        if not yes and not click.confirm(
            f"Configure {len(to_change)} number(s) in Twilio?", default=False
        ):
            click.echo("Nothing was changed in Twilio.")
            raise click.exceptions.Exit(1)
        by_domain: dict[str, list[str]] = {}
        for status in to_change:
            by_domain.setdefault(status.domain_id, []).append(status.phone_number)
        updated = {
            (r.domain_id, r.phone_number): r
            for domain, wanted in by_domain.items()
            for r in twilio_setup.configure(domain, numbers=wanted)
        }
        results = [updated.get((r.domain_id, r.phone_number), r) for r in results]
    elif results:
        click.echo("Nothing to configure in Twilio.")
    _echo_statuses(results)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)


#: How the Twilio commands name each state.
STATE_WORDS = {
    twilio_setup.CONFIGURED: "configured",
    twilio_setup.NOT_CONFIGURED: "not configured",
    twilio_setup.NOT_IN_ACCOUNT: "not in this Twilio account",
    twilio_setup.UNKNOWN: "couldn't check",
}
#: How they name a WhatsApp sender, which is configured in the Twilio console.
IN_CONSOLE_WORDS = "set in the Twilio console"


def _state_words(status: twilio_setup.NumberStatus) -> str:
    return IN_CONSOLE_WORDS if status.in_console else STATE_WORDS[status.state]


def _check(domain_id: str | None) -> list[twilio_setup.NumberStatus]:
    try:
        return twilio_setup.check(domain_id)
    except DomainNotFound:
        raise click.ClickException(f"There is no IA Domain with id {domain_id!r}.") from None


def _echo_statuses(results: list[twilio_setup.NumberStatus]) -> None:
    if not results:
        click.echo("No numbers are bound.")
        return
    table = [("Phone Number", "IA Domain", "Twilio", "Details")]
    for r in results:
        if r.state == twilio_setup.NOT_CONFIGURED:
            details = "; ".join(r.differences)
        elif r.error is not None:
            details = r.error.message
        else:
            details = "updated now" if r.changed else ""
        table.append((r.phone_number, r.domain_label, _state_words(r), details))
    _echo_table(table)
    counts = {
        word: sum(_state_words(r) == word for r in results)
        for word in (*STATE_WORDS.values(), IN_CONSOLE_WORDS)
    }
    click.echo(", ".join(f"{n} {word}" for word, n in counts.items() if n) + ".")


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
