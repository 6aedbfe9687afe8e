"""branch workspace: queues' indexes, assignment, supplement pause, optimistic locking, branch leads

Revision ID: 0017
Revises: 0016

- dossiers.assigned_user_id (the officer a dossier is assigned to), dossiers.paused_at (the deadline waits
  for the citizen's supplement), dossiers.version (optimistic locking);
- the queue indexes (service_point_id, status, deadline_at) and (status, deadline_at): a queue tab is an
  index range scan in deadline order, its counts an index-only GROUP BY;
- service_points.parent_id: the branch a reception or commune point reports to, filled here with the
  nearest branch (the network data names no other link);
- users.is_branch_lead: a branch lead sees the branch and the points under it.
"""
from math import asin, cos, radians, sin, sqrt

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 12742.0 * asin(sqrt(a))


def _fill_parents() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, tier, lat, lon FROM service_points")).all()
    branches = [r for r in rows if r.tier == 'branch']
    if not branches:
        return
    update = sa.text("UPDATE service_points SET parent_id = :parent WHERE id = :id")
    for row in rows:
        if row.tier == 'branch':
            continue
        nearest = min(branches, key=lambda b: (_km(row.lat, row.lon, b.lat, b.lon), b.id))
        conn.execute(update, {"parent": nearest.id, "id": row.id})


def upgrade():
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_service_points_parent_id_service_points'), 'service_points',
                                    ['parent_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_service_points_parent_id'), ['parent_id'], unique=False)
    _fill_parents()

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_branch_lead', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_assigned_user_id_users'), 'users',
                                    ['assigned_user_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_dossiers_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index('ix_dossiers_queue', ['service_point_id', 'status', 'deadline_at'], unique=False)
        batch_op.create_index('ix_dossiers_status_deadline', ['status', 'deadline_at'], unique=False)


def downgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_status_deadline')
        batch_op.drop_index('ix_dossiers_queue')
        batch_op.drop_index(batch_op.f('ix_dossiers_assigned_user_id'))
        batch_op.drop_constraint(batch_op.f('fk_dossiers_assigned_user_id_users'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('assigned_user_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_branch_lead')

    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_points_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_service_points_parent_id_service_points'), type_='foreignkey')
        batch_op.drop_column('parent_id')
