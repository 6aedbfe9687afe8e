"""courier shipments, pickups and attempts (issue 6)

Pickup windows per service point (a point without rows uses COURIER_PICKUP_WINDOWS), one
shipment per dossier, its delivery attempts, the carrier's events (unique per carrier and
event id: a repeated webhook records one), citizens' reschedule requests, wrong phone-digit
tries (the tracking page's lockout). The sandbox courier's own tables, created here until the sandboxes
became dev plugins, belong to the ``sandbox_courier`` branch (sandboxes/courier/migrations/versions).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'picked_up', 'in_transit', 'out_for_delivery', 'delivery_failed', 'returned_to_branch',
            'delivered')


def _status(name):
    return sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('pickup_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_pickup_windows_weekday_range')),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_pickup_windows_window_order')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'],
                            name=op.f('fk_pickup_windows_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickup_windows')),
    sa.UniqueConstraint('service_point_id', 'weekday', 'start_time',
                        name=op.f('uq_pickup_windows_service_point_id_weekday_start_time'))
    )
    with op.batch_alter_table('pickup_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pickup_windows_service_point_id'), ['service_point_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('status', _status('shipment_status'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('pickup_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('estimated_delivery', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipient_name', sa.String(length=200), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature_ref', sa.String(length=500), nullable=True),
    sa.Column('photo_ref', sa.String(length=500), nullable=True),
    sa.Column('last_news_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_shipments_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'],
                            name=op.f('fk_shipments_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('carrier', 'tracking_number', name=op.f('uq_shipments_carrier_tracking_number')),
    sa.UniqueConstraint('dossier_id', name=op.f('uq_shipments_dossier_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_shipments_idempotency_key'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_status'), ['status'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', _status('attempt_status'), nullable=False),
    sa.Column('pickup_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scheduled_by', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('pickup_key', sa.String(length=120), nullable=False),
    sa.Column('pickup_confirmation', sa.String(length=100), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_delivery_attempts_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts')),
    sa.UniqueConstraint('pickup_key', name=op.f('uq_delivery_attempts_pickup_key')),
    sa.UniqueConstraint('shipment_id', 'number', name=op.f('uq_delivery_attempts_shipment_id_number'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('shipment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('status', _status('shipment_event_status'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_events_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_events')),
    sa.UniqueConstraint('carrier', 'external_id', name=op.f('uq_shipment_events_carrier_external_id'))
    )
    with op.batch_alter_table('shipment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_events_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('reschedule_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('previous_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'],
                            name=op.f('fk_reschedule_requests_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reschedule_requests'))
    )
    with op.batch_alter_table('reschedule_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reschedule_requests_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('phone_check_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_phone_check_failures_dossier_id_dossiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_check_failures'))
    )
    with op.batch_alter_table('phone_check_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_check_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_check_failures_dossier_id'), ['dossier_id'], unique=False)


def downgrade():
    with op.batch_alter_table('phone_check_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_check_failures_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_phone_check_failures_at'))
    op.drop_table('phone_check_failures')
    with op.batch_alter_table('reschedule_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reschedule_requests_shipment_id'))
    op.drop_table('reschedule_requests')
    with op.batch_alter_table('shipment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_events_shipment_id'))
    op.drop_table('shipment_events')
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_shipment_id'))
    op.drop_table('delivery_attempts')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_status'))
        batch_op.drop_index(batch_op.f('ix_shipments_service_point_id'))
    op.drop_table('shipments')
    with op.batch_alter_table('pickup_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pickup_windows_service_point_id'))
    op.drop_table('pickup_windows')
