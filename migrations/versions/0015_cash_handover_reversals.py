"""cash handover reversals

A wrong handover is cancelled by a reversing record (``reverses_id``), never edited; the reference
(bank reference or counter receipt) is then unique only among the handovers that stand, which the
service checks, so the corrected handover may carry the same bank reference and be confirmed by the
same statement line.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cash_handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverses_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_cash_handovers_reference'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_cash_handovers_bank_line_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_cash_handovers_bank_line_id'), ['bank_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cash_handovers_reference'), ['reference'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_cash_handovers_reverses_id'), ['reverses_id'])
        batch_op.create_foreign_key(batch_op.f('fk_cash_handovers_reverses_id_cash_handovers'), 'cash_handovers',
                                    ['reverses_id'], ['id'])


def downgrade():
    with op.batch_alter_table('cash_handovers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cash_handovers_reverses_id_cash_handovers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_cash_handovers_reverses_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_cash_handovers_reference'))
        batch_op.drop_index(batch_op.f('ix_cash_handovers_bank_line_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_cash_handovers_bank_line_id'), ['bank_line_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_cash_handovers_reference'), ['reference'])
        batch_op.drop_column('reverses_id')
