"""procedure catalogue sources: national code, legal basis and source of each procedure; no district level

The catalogue is imported from the national public service portal (dichvucong.gov.vn) and the
hand-checked rows (tools/import_catalogue.py): each procedure now records the portal's code, the
legal documents it rests on and where its facts come from. Districts were abolished on 1/7/2025
(two-level local government); procedures still at district level move to the commune, as the
importer maps them.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('national_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('legal_basis', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=300), nullable=True))
    op.execute("UPDATE procedures SET level = 'commune' WHERE level = 'district'")


def downgrade():
    # The district level is not brought back: which procedures were at it is not recorded.
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('legal_basis')
        batch_op.drop_column('national_code')
