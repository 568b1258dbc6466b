"""The shipped migrations build exactly the models, and take them away again."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from flask_xsms import migrate
from flask_xsms._extension import get_state
from flask_xsms.models import metadata


def xsms_tables(app: Flask) -> set[str]:
    names = sa.inspect(get_state(app).db.engine).get_table_names()
    return {n for n in names if n.startswith("xsms_") and n != migrate.VERSION_TABLE}


def differences(app: Flask) -> list[object]:
    with get_state(app).db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": migrate._ours,
                "version_table": migrate.VERSION_TABLE,
            },
        )
        return list(compare_metadata(context, metadata))


def test_upgrade_from_empty_equals_the_models(app: Flask) -> None:
    metadata.drop_all(get_state().db.engine)
    assert xsms_tables(app) == set()
    migrate.upgrade()
    assert xsms_tables(app) == set(metadata.tables)
    assert differences(app) == []
    assert migrate.current_revision() == migrate.head_revision()
    migrate.upgrade()  # nothing left to do
    assert migrate.current_revision() == migrate.head_revision()


def test_downgrade_to_base_drops_only_the_extensions_tables(app: Flask) -> None:
    engine = get_state().db.engine
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE host_things (id INTEGER PRIMARY KEY)"))
    try:
        migrate.upgrade()
        migrate.downgrade("base")
        assert xsms_tables(app) == set()
        assert migrate.current_revision() is None
        assert "host_things" in sa.inspect(engine).get_table_names()
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE host_things"))


def test_stamp_after_create_all(app: Flask) -> None:
    # the app fixture made the tables with create_all
    assert migrate.current_revision() is None
    migrate.stamp()
    assert migrate.current_revision() == migrate.head_revision()
    migrate.upgrade()
    assert differences(app) == []


def test_cli(app: Flask) -> None:
    runner = app.test_cli_runner()
    metadata.drop_all(get_state().db.engine)
    result = runner.invoke(args=["xsms", "db", "current"])
    assert result.exit_code == 1 and "none (not migrated)" in result.output
    result = runner.invoke(args=["xsms", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {migrate.head_revision()}" in result.output
    assert runner.invoke(args=["xsms", "db", "current"]).exit_code == 0
    result = runner.invoke(args=["xsms", "db", "downgrade", "base"])
    assert result.exit_code == 0 and "revision base" in result.output
    assert xsms_tables(app) == set()
    metadata.create_all(get_state().db.engine)
    result = runner.invoke(args=["xsms", "db", "stamp"])
    assert result.exit_code == 0 and "marked as revision" in result.output


def test_messages_left_unanswered_by_earlier_versions_become_turns(app: Flask) -> None:
    """0005: "processing" and "late" messages without a reply wait for the recovery
    sweep; answered "late" ones are handled and never answered twice."""
    engine = get_state().db.engine
    metadata.drop_all(engine)
    migrate.upgrade("0004")
    moment = "2026-12-04 10:00:00"
    with engine.begin() as connection:
        for id_, sid, direction, status, reply in [
            (1, "SM1", "inbound", "late", None),
            (2, None, "outbound", "delivered", 1),
            (3, "SM3", "inbound", "late", None),
            (4, "SM4", "inbound", "processing", None),
            (5, "SM5", "inbound", "handled", None),
        ]:
            connection.execute(
                sa.text(
                    "INSERT INTO xsms_message (id, sid, direction, from_number, to_number,"
                    " body, media, status, details, created_at, updated_at, in_reply_to_id)"
                    " VALUES (:id, :sid, :direction, '+1', '+2', '', '[]', :status, '{}',"
                    " :at, :at, :reply)"
                ),
                {"id": id_, "sid": sid, "direction": direction, "status": status,
                 "reply": reply, "at": moment},
            )
    migrate.upgrade()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, status, claimed_at IS NOT NULL, response_twiml IS NOT NULL"
                " FROM xsms_message ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "handled", False, False),  # its late reply was sent
        (2, "delivered", False, False),
        (3, "processing", True, True),  # never answered: the sweep hands it over
        (4, "processing", True, True),
        (5, "handled", False, False),
    ]
