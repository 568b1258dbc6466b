"""Schema migrations of the extension's tables, with Alembic.

The extension keeps its own migration history (table ``xsms_alembic_version``) beside
the host's, so a host with Flask-Migrate runs ``flask db upgrade`` for its tables and
``flask xsms db upgrade`` for these. Every function needs an app context and runs on
the host's engine.
"""
from __future__ import annotations

__all__ = [
    "upgrade",
    "downgrade",
    "stamp",
    "current_revision",
    "head_revision",
]

import typing as t
from importlib import resources

from ._state import get_state
from .models import metadata

VERSION_TABLE = "xsms_alembic_version"


def _config(connection: t.Any) -> t.Any:
    try:
        from alembic.config import Config
    except ImportError:  # pragma: no cover - alembic is a dependency
        raise RuntimeError("Migrations need Alembic: pip install alembic.") from None
    config = Config()
    config.set_main_option("script_location", str(resources.files("flask_xsms") / "migrations"))
    config.attributes["connection"] = connection
    return config


def configure_context(context: t.Any) -> None:
    """Configure Alembic's ``context`` in ``env.py`` (online mode only)."""
    if context.is_offline_mode():
        raise RuntimeError("flask-xsms migrations run on a live connection, not in --sql mode.")
    context.configure(
        connection=context.config.attributes["connection"],
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_name=_ours,
    )


def _ours(name: str | None, type_: str, parent_names: t.Any) -> bool:
    return type_ != "table" or bool(name and name.startswith("xsms_"))


def _run(command_name: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
    from alembic import command

    engine = get_state().db.engine
    with engine.begin() as connection:
        return getattr(command, command_name)(_config(connection), *args, **kwargs)


def upgrade(revision: str = "head") -> None:
    """Bring the extension's tables up to ``revision`` (default: the latest)."""
    _run("upgrade", revision)


def downgrade(revision: str) -> None:
    """Take the extension's tables back to ``revision`` (``"base"``: drop them all)."""
    _run("downgrade", revision)


def stamp(revision: str = "head") -> None:
    """Record ``revision`` as applied without changing tables (after ``create_all``)."""
    _run("stamp", revision)


def current_revision() -> str | None:
    """The revision the database is at, or ``None`` before the first upgrade."""
    from alembic.migration import MigrationContext

    with get_state().db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return t.cast("str | None", context.get_current_revision())


def head_revision() -> str:
    """The latest revision shipped with this version of flask-xsms."""
    from alembic.script import ScriptDirectory

    return t.cast(str, ScriptDirectory.from_config(_config(None)).get_current_head())


def revision(message: str, rev_id: str | None = None) -> None:
    """Write a new migration from the difference between the models and the database.

    For the extension's own development: the file lands in ``flask_xsms/migrations``.
    """
    _run("revision", message=message, autogenerate=True, rev_id=rev_id)
