"""Conversation numbers as wide as the message's

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('xsms_conversation', schema=None) as batch_op:
        for column in ('customer_number', 'service_number'):
            batch_op.alter_column(
                column, existing_type=sa.String(length=32), type_=sa.String(length=64),
                existing_nullable=False,
            )


def downgrade() -> None:
    with op.batch_alter_table('xsms_conversation', schema=None) as batch_op:
        for column in ('customer_number', 'service_number'):
            batch_op.alter_column(
                column, existing_type=sa.String(length=64), type_=sa.String(length=32),
                existing_nullable=False,
            )
