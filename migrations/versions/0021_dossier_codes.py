"""dossier codes: the receiving agency's code on each dossier (Circular 01/2018/TT-VPCP Art. 19)

New dossiers are numbered ``<agency code>-YYMMDD-XXXX`` (dossiers/codes.py) and their counters in
dossier_counters are keyed by the agency code. Existing dossiers keep their numbers (the former
``<point code>-YYMMDD-XXXX`` stays valid for every lookup) and their agency_code stays NULL; their
counters, keyed by point code, are left as they are.

Revision ID: 0021
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(sa.Column('agency_code', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_column('agency_code')
