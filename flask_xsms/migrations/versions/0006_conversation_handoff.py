"""Conversations an operator can take over

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('xsms_conversation', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('handoff', sa.String(length=16), server_default='bot', nullable=False)
        )
        batch_op.add_column(sa.Column('agent_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agent_name', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('handoff_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('handoff_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('xsms_message', schema=None) as batch_op:
        batch_op.create_index(
            'ix_xsms_message_conversation', ['conversation_id', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('xsms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_xsms_message_conversation')
    with op.batch_alter_table('xsms_conversation', schema=None) as batch_op:
        batch_op.drop_column('handoff_reason')
        batch_op.drop_column('handoff_at')
        batch_op.drop_column('agent_name')
        batch_op.drop_column('agent_id')
        batch_op.drop_column('handoff')
