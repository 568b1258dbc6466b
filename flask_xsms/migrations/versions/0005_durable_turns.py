"""Durable conversation turns: claims on inbound messages, the sweep lease

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OPEN_TURN = sa.text("status IN ('received', 'processing')")


def upgrade() -> None:
    with op.batch_alter_table('xsms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('turn_attempts', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('reply_from', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reply_callback', sa.Text(), nullable=True))
        batch_op.create_index(
            'ix_xsms_message_open_turn', ['claimed_at'], unique=False,
            sqlite_where=OPEN_TURN, postgresql_where=OPEN_TURN,
        )
    op.create_table(
        'xsms_lease',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=32), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_xsms_lease')),
    )
    # Messages that the threads of earlier versions left "processing" or "late" without
    # a reply become turns that the recovery sweep answers; answered ones are handled.
    op.execute(
        "UPDATE xsms_message SET status = 'handled'"
        " WHERE direction = 'inbound' AND status IN ('processing', 'late')"
        " AND EXISTS (SELECT 1 FROM xsms_message AS reply"
        " WHERE reply.in_reply_to_id = xsms_message.id)"
    )
    op.execute(
        "UPDATE xsms_message SET status = 'processing', claimed_at = updated_at,"
        " response_twiml = COALESCE(response_twiml, '<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />')"
        " WHERE direction = 'inbound' AND status IN ('processing', 'late')"
    )


def downgrade() -> None:
    op.drop_table('xsms_lease')
    with op.batch_alter_table('xsms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_xsms_message_open_turn', sqlite_where=OPEN_TURN,
                            postgresql_where=OPEN_TURN)
        batch_op.drop_column('reply_callback')
        batch_op.drop_column('reply_from')
        batch_op.drop_column('turn_attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
