"""dossier apologies: the reason and new date of a late dossier (Circular 01/2018/TT-VPCP, form 04)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dossier_apologies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('old_deadline', sa.DateTime(timezone=True), nullable=False),
        sa.Column('new_deadline', sa.DateTime(timezone=True), nullable=False),
        sa.Column('officer', sa.String(length=300), nullable=False),
        sa.Column('officer_name', sa.String(length=200), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_dossier_apologies_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_apologies')),
    )
    op.create_index(op.f('ix_dossier_apologies_dossier_id'), 'dossier_apologies', ['dossier_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_dossier_apologies_dossier_id'), table_name='dossier_apologies')
    op.drop_table('dossier_apologies')
