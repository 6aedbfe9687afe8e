"""agent points, cash handovers, finance exceptions

The post offices, tablets and online channels agent organisations take dossiers at (users and
dossiers carry theirs: the unit of finance statements and cash holdings); the cash agents hand
over to the centre; the reconciliation's exception queue and what finance did about each item.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('post_office', 'tablet', 'online', name='agent_point_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_agent_points_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_points')),
    sa.UniqueConstraint('code', name=op.f('uq_agent_points_code'))
    )
    with op.batch_alter_table('agent_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_points_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('finance_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('missing_at_gateway', 'missing_in_ledger', 'amount_mismatch', 'fee_mismatch', 'duplicate', 'refund_without_payment', 'payout_sum_mismatch', 'payout_not_in_bank', 'bank_unmatched', 'cash_overdue', name='finance_exception_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ours', sa.JSON(), nullable=False),
    sa.Column('theirs', sa.JSON(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('agent_point_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'resolved', name='finance_exception_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assignee_user_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_point_id'], ['agent_points.id'], name=op.f('fk_finance_exceptions_agent_point_id_agent_points')),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['users.id'], name=op.f('fk_finance_exceptions_assignee_user_id_users')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_finance_exceptions_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_finance_exceptions_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_exceptions')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_finance_exceptions_dedupe_key'))
    )
    with op.batch_alter_table('finance_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_exceptions_assignee_user_id'), ['assignee_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_exceptions_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_exceptions_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_finance_exceptions_status_kind', ['status', 'kind'], unique=False)

    op.create_table('finance_exception_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exception_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('detected', 'assigned', 'adjusted', 'linked', 'explained', 'cleared', 'reopened', name='finance_exception_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exception_id'], ['finance_exceptions.id'], name=op.f('fk_finance_exception_actions_exception_id_finance_exceptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_exception_actions'))
    )
    with op.batch_alter_table('finance_exception_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_exception_actions_exception_id'), ['exception_id'], unique=False)

    op.create_table('cash_handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('agent_point_id', sa.Integer(), nullable=True),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('handed_over_on', sa.Date(), nullable=False),
    sa.Column('method', sa.Enum('bank_deposit', 'counter', name='handover_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('received_by', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('bank_line_id', sa.Integer(), nullable=True),
    sa.Column('ledger_transaction_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=300), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_cash_handovers_handover_positive')),
    sa.ForeignKeyConstraint(['agent_point_id'], ['agent_points.id'], name=op.f('fk_cash_handovers_agent_point_id_agent_points')),
    sa.ForeignKeyConstraint(['bank_line_id'], ['bank_statement_lines.id'], name=op.f('fk_cash_handovers_bank_line_id_bank_statement_lines')),
    sa.ForeignKeyConstraint(['ledger_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_cash_handovers_ledger_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_cash_handovers_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_handovers')),
    sa.UniqueConstraint('bank_line_id', name=op.f('uq_cash_handovers_bank_line_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_cash_handovers_reference'))
    )
    with op.batch_alter_table('cash_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_handovers_agent_point_id'), ['agent_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cash_handovers_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_point_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dossiers_agent_point_id'), ['agent_point_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_agent_point_id_agent_points'), 'agent_points', ['agent_point_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_point_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_agent_point_id'), ['agent_point_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_agent_point_id_agent_points'), 'agent_points', ['agent_point_id'], ['id'])



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_agent_point_id_agent_points'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_agent_point_id'))
        batch_op.drop_column('agent_point_id')

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossiers_agent_point_id_agent_points'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dossiers_agent_point_id'))
        batch_op.drop_column('agent_point_id')

    with op.batch_alter_table('cash_handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cash_handovers_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_cash_handovers_agent_point_id'))

    op.drop_table('cash_handovers')
    with op.batch_alter_table('finance_exception_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_exception_actions_exception_id'))

    op.drop_table('finance_exception_actions')
    with op.batch_alter_table('finance_exceptions', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_exceptions_status_kind')
        batch_op.drop_index(batch_op.f('ix_finance_exceptions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_finance_exceptions_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_finance_exceptions_assignee_user_id'))

    op.drop_table('finance_exceptions')
    with op.batch_alter_table('agent_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_points_organisation_id'))

    op.drop_table('agent_points')
