"""the outbox relay to rq (issue 6)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"
CLAIMED = "status IN ('queued', 'running')"


def upgrade():
    # The scans for due work (the relay's claim, the embedded runner), each over the few rows it
    # needs: pending messages in due order, and claims ('queued' handed to rq, 'running') by expiry.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending_due', ['due_at', 'id'], unique=False,
                              postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
        batch_op.create_index('ix_outbox_claimed_until', ['claimed_until'], unique=False,
                              postgresql_where=sa.text(CLAIMED), sqlite_where=sa.text(CLAIMED))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_claimed_until')
        batch_op.drop_index('ix_outbox_pending_due')
