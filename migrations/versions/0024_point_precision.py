"""service point coordinate precision and source URL

Every point says how precisely its coordinates place the office (building, street, ward_centre,
unit_centre, district_mean, unknown) and, when one was found, the public page its address comes
from. Existing rows are backfilled from the wording of their coord_source, the only record of how
their coordinates were made. The points' received levels lose "district": that level ended on 1/7/2025
(its procedures moved to the commune, 0023), so no dossier asks for it.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

PRECISIONS = ('building', 'street', 'ward_centre', 'unit_centre', 'district_mean', 'unknown')

# First match wins (LIKE patterns on lower(coord_source), as the shipped network and the admin default word them).
BACKFILL = (
    ('district_mean', ('%mean of%',)),
    ('ward_centre', ('%legacy ward%', '%ward centre%', '%tâm phường%')),
    ('unit_centre', ('%unit centre%', '%2025 unit%', '%tâm xã%')),
    ('building', ('%building%', '%rooftop%', '%tòa nhà%')),
    ('street', ('%street%', '%đường%')),
)


def upgrade():
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'coord_precision',
            sa.Enum(*PRECISIONS, name='coord_precision', native_enum=False, create_constraint=True, length=32),
            server_default='unknown', nullable=False))
        batch_op.add_column(sa.Column('source_url', sa.String(length=500), nullable=True))
    points = sa.table('service_points', sa.column('coord_source', sa.String),
                      sa.column('coord_precision', sa.String))
    for precision, patterns in BACKFILL:
        op.execute(points.update()
                   .where(points.c.coord_precision == 'unknown')
                   .where(sa.or_(*(sa.func.lower(points.c.coord_source).like(p) for p in patterns)))
                   .values(coord_precision=precision))
    _drop_district_level()


def _drop_district_level():
    bind = op.get_bind()
    levels = sa.table('service_points', sa.column('id', sa.Integer), sa.column('levels', sa.JSON))
    for row in bind.execute(sa.select(levels.c.id, levels.c.levels)).all():
        kept = [level for level in (row.levels or []) if level != 'district']
        if kept != list(row.levels or []):
            bind.execute(levels.update().where(levels.c.id == row.id).values(levels=kept or ['commune']))


def downgrade():
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.drop_constraint('coord_precision', type_='check')
        batch_op.drop_column('source_url')
        batch_op.drop_column('coord_precision')
