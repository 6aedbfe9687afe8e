"""admin audit trail

The back office's record of every administrator's change: who, when, what.

Revision ID: 0009_citizen
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_citizen'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'admin_audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit_events')),
    )
    op.create_index(op.f('ix_admin_audit_events_at'), 'admin_audit_events', ['at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_admin_audit_events_at'), table_name='admin_audit_events')
    op.drop_table('admin_audit_events')
