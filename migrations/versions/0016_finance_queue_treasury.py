"""finance exception queue audit guard, treasury transfers

The exception queue's actions are its audit trail: on PostgreSQL a trigger refuses any UPDATE or
DELETE on finance_exception_actions (as migration 0004 does for the ledger). State fees paid to
the State Treasury are recorded in treasury_transfers, each booked through the ledger.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


ACTIONS_GUARD = """
CREATE FUNCTION finance_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the exception queue''s actions are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER finance_exception_actions_append_only BEFORE UPDATE OR DELETE ON finance_exception_actions
  FOR EACH ROW EXECUTE FUNCTION finance_actions_append_only();
"""


def upgrade():
    op.create_table('treasury_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=300), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_treasury_transfers_treasury_transfer_positive')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_treasury_transfers_ledger_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treasury_transfers')),
    sa.UniqueConstraint('reference', name=op.f('uq_treasury_transfers_reference'))
    )
    with op.batch_alter_table('treasury_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treasury_transfers_transferred_on'), ['transferred_on'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(ACTIONS_GUARD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finance_exception_actions_append_only ON finance_exception_actions;"
                   "DROP FUNCTION finance_actions_append_only();")
    with op.batch_alter_table('treasury_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treasury_transfers_transferred_on'))

    op.drop_table('treasury_transfers')
