"""live monitoring and quality alerts: dossier resolutions, monitoring indexes, SIPAS criteria, alerts, leadership

dossier_resolutions holds one row per resolved dossier (written by the status change from now on,
backfilled here from the timeline); two indexes on dossiers serve the monitoring's grouped queries;
feedback gains the five optional SIPAS criteria; quality_alerts holds the alerts (one open per kind and
subject, a partial unique index); users may have the new role 'leadership'.

Revision ID: 0018
Revises: 0017
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OPEN = "status IN ('received', 'routed', 'accepted', 'processing', 'supplement_requested')"
ROLES_BEFORE = ('agent', 'branch_officer', 'finance', 'admin')
ROLES_AFTER = (*ROLES_BEFORE, 'leadership')
SIPAS = ('sipas_access', 'sipas_procedure', 'sipas_officer', 'sipas_result', 'sipas_feedback')


def _roles(values):
    return sa.Enum(*values, name='user_role', native_enum=False, create_constraint=True, length=32)


def _set_roles(before, after):
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE users DROP CONSTRAINT user_role")
        allowed = ", ".join(f"'{r}'" for r in after)
        op.execute(f"ALTER TABLE users ADD CONSTRAINT user_role CHECK (role IN ({allowed}))")  # noqa: S608
    else:  # SQLite: the table is rebuilt with the new CHECK
        with op.batch_alter_table('users', recreate='always') as batch_op:
            batch_op.alter_column('role', existing_type=_roles(before), type_=_roles(after), existing_nullable=False)


def upgrade():
    _set_roles(ROLES_BEFORE, ROLES_AFTER)
    op.create_table('dossier_resolutions',
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_resolutions_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_dossier_resolutions_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'],
                            name=op.f('fk_dossier_resolutions_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('dossier_id', name=op.f('pk_dossier_resolutions'))
    )
    op.create_index('ix_dossier_resolutions_resolved_point', 'dossier_resolutions',
                    ['resolved_at', 'service_point_id'], unique=False)
    op.create_index('ix_dossiers_monitoring_received', 'dossiers',
                    ['received_at', 'service_point_id', 'organisation_id', 'procedure_id', 'outside_service_radius'],
                    unique=False)
    op.create_index('ix_dossiers_open_deadline', 'dossiers', ['deadline_at', 'service_point_id'], unique=False,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    with op.batch_alter_table('feedback') as batch_op:
        for name in SIPAS:
            batch_op.add_column(sa.Column(name, sa.SmallInteger(), nullable=True))
    op.create_table('quality_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('service_point_code', sa.String(length=32), nullable=True),
    sa.Column('dossier_number', sa.String(length=40), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_alerts'))
    )
    op.create_index(op.f('ix_quality_alerts_raised_at'), 'quality_alerts', ['raised_at'], unique=False)
    op.create_index('uq_quality_alerts_open_subject', 'quality_alerts', ['kind', 'subject'], unique=True,
                    postgresql_where=sa.text('acknowledged_at IS NULL'),
                    sqlite_where=sa.text('acknowledged_at IS NULL'))
    _backfill_resolutions()


def _backfill_resolutions():
    """The dossiers resolved before this migration, from their timeline (the first 'result_ready')."""
    from core.calendar import is_working_day
    from core.timeutil import as_utc, to_local

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT d.id, d.service_point_id, d.organisation_id, p.level, d.received_at, d.deadline_at, MIN(e.at) "
        "FROM dossiers d JOIN procedures p ON p.id = d.procedure_id "
        "JOIN dossier_events e ON e.dossier_id = d.id AND e.to_status = 'result_ready' "
        "GROUP BY d.id, d.service_point_id, d.organisation_id, p.level, d.received_at, d.deadline_at")).all()
    table = sa.table('dossier_resolutions', *(sa.column(c) for c in (
        'dossier_id', 'service_point_id', 'organisation_id', 'level', 'received_at', 'deadline_at', 'resolved_at',
        'working_days', 'outcome')))
    out = []
    for dossier_id, point_id, org_id, level, received, deadline, resolved in rows:
        received, deadline, resolved = (as_utc(_dt(v)) for v in (received, deadline, resolved))
        start, end, days = to_local(received).date(), to_local(resolved).date(), 0
        while start < end:
            start += timedelta(days=1)
            days += is_working_day(start)
        outcome = ("late" if resolved > deadline else
                   "early" if to_local(resolved).date() < to_local(deadline).date() else "on_time")
        out.append({"dossier_id": dossier_id, "service_point_id": point_id, "organisation_id": org_id,
                    "level": level, "received_at": received, "deadline_at": deadline, "resolved_at": resolved,
                    "working_days": days, "outcome": outcome})
    if out:
        op.bulk_insert(table, out)


def _dt(value):
    if isinstance(value, str):  # SQLite hands back text
        from datetime import datetime

        return datetime.fromisoformat(value)
    return value


def downgrade():
    op.drop_index('uq_quality_alerts_open_subject', table_name='quality_alerts')
    op.drop_index(op.f('ix_quality_alerts_raised_at'), table_name='quality_alerts')
    op.drop_table('quality_alerts')
    with op.batch_alter_table('feedback') as batch_op:
        for name in SIPAS:
            batch_op.drop_column(name)
    op.drop_index('ix_dossiers_open_deadline', table_name='dossiers')
    op.drop_index('ix_dossiers_monitoring_received', table_name='dossiers')
    op.drop_index('ix_dossier_resolutions_resolved_point', table_name='dossier_resolutions')
    op.drop_table('dossier_resolutions')
    op.execute("DELETE FROM users WHERE role = 'leadership'")
    _set_roles(ROLES_AFTER, ROLES_BEFORE)
