"""Webhook rejections

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xsms_webhook_rejection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('endpoint', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('validated_url', sa.Text(), nullable=False),
    sa.Column('matched_url', sa.Text(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['xsms_integration.id'], name=op.f('fk_xsms_webhook_rejection_integration_id_xsms_integration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xsms_webhook_rejection'))
    )
    with op.batch_alter_table('xsms_webhook_rejection', schema=None) as batch_op:
        batch_op.create_index('ix_xsms_webhook_rejection_integration_created', ['integration_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('xsms_webhook_rejection', schema=None) as batch_op:
        batch_op.drop_index('ix_xsms_webhook_rejection_integration_created')
    op.drop_table('xsms_webhook_rejection')
