"""finance agent statements: issued statements, their lines, the gap-free counter

An issued statement and its lines never change: on PostgreSQL a trigger refuses UPDATE and DELETE
on finance_statements and finance_statement_lines (as 0004 does for the ledger), but for the one
sealing of a statement (its figures and signature written once, right after its lines).

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


GUARD = """
CREATE FUNCTION finance_statements_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The one change allowed: sealing (signing) a statement right after its lines, in the issuing transaction.
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'finance_statements' AND OLD.signature = '' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'an issued statement never changes: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER finance_statements_frozen BEFORE UPDATE OR DELETE ON finance_statements
  FOR EACH ROW EXECUTE FUNCTION finance_statements_frozen();
CREATE TRIGGER finance_statement_lines_frozen BEFORE UPDATE OR DELETE ON finance_statement_lines
  FOR EACH ROW EXECUTE FUNCTION finance_statements_frozen();
"""


def upgrade():
    op.create_table('finance_statement_counters',
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_finance_statement_counters'))
    )
    op.create_table('finance_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('agent_point_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=300), nullable=False),
    sa.Column('canonical', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['agent_point_id'], ['agent_points.id'], name=op.f('fk_finance_statements_agent_point_id_agent_points')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_finance_statements_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_statements')),
    sa.UniqueConstraint('series', 'number', name=op.f('uq_finance_statements_series_number'))
    )
    with op.batch_alter_table('finance_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_statements_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_statements_agent_point_id'), ['agent_point_id'], unique=False)
        batch_op.create_index('ix_finance_statements_scope_period', ['scope_key', 'period_start', 'period_end'],
                              unique=False)

    op.create_table('finance_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('state_fee_vnd', sa.BigInteger(), nullable=False),
    sa.Column('service_fee_vnd', sa.BigInteger(), nullable=False),
    sa.Column('courier_fee_vnd', sa.BigInteger(), nullable=False),
    sa.Column('correction', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_finance_statement_lines_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_finance_statement_lines_ledger_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['statement_id'], ['finance_statements.id'], name=op.f('fk_finance_statement_lines_statement_id_finance_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_statement_lines')),
    sa.UniqueConstraint('scope_key', 'ledger_transaction_id', name=op.f('uq_finance_statement_lines_scope_key_ledger_transaction_id'))
    )
    with op.batch_alter_table('finance_statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_statement_lines_statement_id'), ['statement_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER finance_statement_lines_frozen ON finance_statement_lines;"
                   "DROP TRIGGER finance_statements_frozen ON finance_statements;"
                   "DROP FUNCTION finance_statements_frozen();")
    with op.batch_alter_table('finance_statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_statement_lines_statement_id'))
    op.drop_table('finance_statement_lines')
    with op.batch_alter_table('finance_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_statements_scope_period')
        batch_op.drop_index(batch_op.f('ix_finance_statements_agent_point_id'))
        batch_op.drop_index(batch_op.f('ix_finance_statements_organisation_id'))
    op.drop_table('finance_statements')
    op.drop_table('finance_statement_counters')
