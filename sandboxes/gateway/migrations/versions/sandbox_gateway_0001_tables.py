"""The sandbox gateway's tables (branch ``sandbox_gateway``), created where they are missing.

A database that ran the platform's old revision 0003 already has them (with the sandbox's rows, which
its payments refer to): they are kept as they are. A new dev database gets them here.

Revision ID: sandbox_gateway_0001
Revises:
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


revision = 'sandbox_gateway_0001'
down_revision = None
branch_labels = ('sandbox_gateway',)
depends_on = None


def _exists(table):
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade():
    if not _exists('sandbox_balance_transactions'):
        op.create_table('sandbox_balance_transactions',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('fee', sa.BigInteger(), nullable=False),
        sa.Column('net', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('available_on', sa.BigInteger(), nullable=False),
        sa.Column('payout', sa.String(length=40), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_balance_transactions')),
        sa.UniqueConstraint('id', name=op.f('uq_sandbox_balance_transactions_id'))
        )
        with op.batch_alter_table('sandbox_balance_transactions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_sandbox_balance_transactions_payout'), ['payout'], unique=False)
            batch_op.create_index(batch_op.f('ix_sandbox_balance_transactions_type'), ['type'], unique=False)

    if not _exists('sandbox_events'):
        op.create_table('sandbox_events',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=60), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_events')),
        sa.UniqueConstraint('id', name=op.f('uq_sandbox_events_id'))
        )
        with op.batch_alter_table('sandbox_events', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_sandbox_events_type'), ['type'], unique=False)

    if not _exists('sandbox_idempotency_keys'):
        op.create_table('sandbox_idempotency_keys',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('api_key_hash', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_idempotency_keys')),
        sa.UniqueConstraint('api_key_hash', 'key', name=op.f('uq_sandbox_idempotency_keys_api_key_hash_key'))
        )

    if not _exists('sandbox_payment_intents'):
        op.create_table('sandbox_payment_intents',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('client_secret', sa.String(length=80), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('metadata', sa.JSON(), nullable=False),
        sa.Column('payment_method', sa.String(length=80), nullable=True),
        sa.Column('return_url', sa.String(length=2000), nullable=True),
        sa.Column('latest_charge', sa.String(length=40), nullable=True),
        sa.Column('charge_balance_transaction', sa.String(length=40), nullable=True),
        sa.Column('amount_received', sa.BigInteger(), nullable=False),
        sa.Column('amount_refunded', sa.BigInteger(), nullable=False),
        sa.Column('last_payment_error', sa.JSON(), nullable=True),
        sa.Column('cancellation_reason', sa.String(length=40), nullable=True),
        sa.Column('canceled_at', sa.BigInteger(), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_payment_intents')),
        sa.UniqueConstraint('id', name=op.f('uq_sandbox_payment_intents_id'))
        )

    if not _exists('sandbox_payouts'):
        op.create_table('sandbox_payouts',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('arrival_date', sa.BigInteger(), nullable=False),
        sa.Column('balance_transaction', sa.String(length=40), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_payouts')),
        sa.UniqueConstraint('day', name=op.f('uq_sandbox_payouts_day')),
        sa.UniqueConstraint('id', name=op.f('uq_sandbox_payouts_id'))
        )

    if not _exists('sandbox_refunds'):
        op.create_table('sandbox_refunds',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('payment_intent', sa.String(length=40), nullable=False),
        sa.Column('charge', sa.String(length=40), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('metadata', sa.JSON(), nullable=False),
        sa.Column('balance_transaction', sa.String(length=40), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_refunds')),
        sa.UniqueConstraint('id', name=op.f('uq_sandbox_refunds_id'))
        )
        with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_sandbox_refunds_payment_intent'), ['payment_intent'], unique=False)

    if not _exists('sandbox_webhook_deliveries'):
        op.create_table('sandbox_webhook_deliveries',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.Column('delivered_at', sa.BigInteger(), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_sandbox_webhook_deliveries'))
        )
        with op.batch_alter_table('sandbox_webhook_deliveries', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_sandbox_webhook_deliveries_event_id'), ['event_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_sandbox_webhook_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_sandbox_webhook_deliveries_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('sandbox_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_webhook_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_sandbox_webhook_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_sandbox_webhook_deliveries_event_id'))

    op.drop_table('sandbox_webhook_deliveries')
    with op.batch_alter_table('sandbox_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_refunds_payment_intent'))

    op.drop_table('sandbox_refunds')
    op.drop_table('sandbox_payouts')
    op.drop_table('sandbox_payment_intents')
    op.drop_table('sandbox_idempotency_keys')
    with op.batch_alter_table('sandbox_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_events_type'))

    op.drop_table('sandbox_events')
    with op.batch_alter_table('sandbox_balance_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_balance_transactions_type'))
        batch_op.drop_index(batch_op.f('ix_sandbox_balance_transactions_payout'))

    op.drop_table('sandbox_balance_transactions')
