"""finance gateway reconciliation: staged balance transactions and payouts, reconciliation runs

The gateway's balance transactions and payouts as fetched for a period (upserted by the gateway's
id), the bank statement line a payout arrived as, and one row per reconciliation run.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('finance_gateway_transactions',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('payment_intent', sa.String(length=100), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payout_id', sa.String(length=100), nullable=True),
    sa.Column('reporting_category', sa.String(length=60), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_gateway_transactions'))
    )
    with op.batch_alter_table('finance_gateway_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_finance_gateway_transactions_type_created', ['type', 'created'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_gateway_transactions_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_gateway_transactions_payment_intent'), ['payment_intent'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_finance_gateway_transactions_payout_id'), ['payout_id'], unique=False)

    op.create_table('finance_gateway_payouts',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('arrival_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bank_line_id', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_line_id'], ['bank_statement_lines.id'],
                            name=op.f('fk_finance_gateway_payouts_bank_line_id_bank_statement_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_gateway_payouts')),
    sa.UniqueConstraint('bank_line_id', name=op.f('uq_finance_gateway_payouts_bank_line_id'))
    )
    with op.batch_alter_table('finance_gateway_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_gateway_payouts_arrival_date'), ['arrival_date'], unique=False)

    op.create_table('finance_reconciliation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_reconciliation_runs'))
    )
    with op.batch_alter_table('finance_reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_reconciliation_runs_started_at'), ['started_at'], unique=False)


def downgrade():
    op.drop_table('finance_reconciliation_runs')
    op.drop_table('finance_gateway_payouts')
    op.drop_table('finance_gateway_transactions')
