"""Messaging Service SIDs in number bindings

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('xsms_number_binding', schema=None) as batch_op:
        batch_op.alter_column(
            'phone_number', existing_type=sa.String(length=32), type_=sa.String(length=64),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('xsms_number_binding', schema=None) as batch_op:
        batch_op.alter_column(
            'phone_number', existing_type=sa.String(length=64), type_=sa.String(length=32),
            existing_nullable=False,
        )
