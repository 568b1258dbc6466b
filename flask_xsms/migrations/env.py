"""Alembic environment of flask-xsms: runs on the host's connection, owns only xsms_ tables."""
from __future__ import annotations

from alembic import context

from flask_xsms.migrate import configure_context

configure_context(context)
with context.begin_transaction():
    context.run_migrations()
