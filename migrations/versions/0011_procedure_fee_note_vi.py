"""procedures: the fee note in Vietnamese

The catalogue's fee note was English only; the Vietnamese tablet page shows this one.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedures') as batch:
        batch.add_column(sa.Column('fee_note_vi', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('procedures') as batch:
        batch.drop_column('fee_note_vi')
