"""admin audit trail; provisional VietQR transfers

The back office's record of every administrator's change: who, when, what. And on payments,
the bank reference of a VietQR transfer the citizen showed at the counter, who marked it and
when (provisional until the bank statement confirms it). And the procedures' checklist in English.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
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
    with op.batch_alter_table('procedures') as batch:
        batch.add_column(sa.Column('required_documents_en', sa.JSON(), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('provisional_bank_reference', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('provisional_by', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('provisional_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('procedures') as batch:
        batch.drop_column('required_documents_en')
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('provisional_at')
        batch.drop_column('provisional_by')
        batch.drop_column('provisional_bank_reference')
    op.drop_index(op.f('ix_admin_audit_events_at'), table_name='admin_audit_events')
    op.drop_table('admin_audit_events')
