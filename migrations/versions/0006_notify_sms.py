"""SMS notifications (issue 6)

``sms_messages``: one row per (dossier, event[, extra]) (``dedupe_key`` unique), its status
created → sending → delivered | failed, the provider's id, and the phone and body until
they are purged. ``sms_receipts``: every delivery receipt and what it did.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sms_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('dedupe_key', sa.String(length=120), nullable=False),
        sa.Column('reference', sa.String(length=40), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('septets', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('created', 'sending', 'delivered', 'failed', name='sms_status',
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=True),
        sa.Column('provider_message_id', sa.String(length=100), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_sms_messages_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_messages')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_sms_messages_dedupe_key')),
        sa.UniqueConstraint('reference', name=op.f('uq_sms_messages_reference')),
        sa.UniqueConstraint('provider_message_id', name=op.f('uq_sms_messages_provider_message_id')),
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_messages_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_sms_messages_phone_sent_at', ['phone', 'sent_at'], unique=False)

    op.create_table(
        'sms_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sms_id', sa.Integer(), nullable=True),
        sa.Column('provider_message_id', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['sms_id'], ['sms_messages.id'], name=op.f('fk_sms_receipts_sms_id_sms_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_receipts')),
    )
    with op.batch_alter_table('sms_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_receipts_sms_id'), ['sms_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_receipts_provider_message_id'), ['provider_message_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('sms_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_receipts_provider_message_id'))
        batch_op.drop_index(batch_op.f('ix_sms_receipts_sms_id'))
    op.drop_table('sms_receipts')
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_messages_phone_sent_at')
        batch_op.drop_index(batch_op.f('ix_sms_messages_created_at'))
        batch_op.drop_index(batch_op.f('ix_sms_messages_status'))
        batch_op.drop_index(batch_op.f('ix_sms_messages_dossier_id'))
    op.drop_table('sms_messages')
