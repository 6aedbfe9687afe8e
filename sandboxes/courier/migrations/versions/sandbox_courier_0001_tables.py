"""The sandbox courier's tables (branch ``sandbox_courier``), created where they are missing.

A database that ran the platform's old revision 0007 already has them: they are kept as they are.
A new dev database gets them here.

Revision ID: sandbox_courier_0001
Revises:
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


revision = 'sandbox_courier_0001'
down_revision = None
branch_labels = ('sandbox_courier',)
depends_on = None


def _exists(table):
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade():
    if not _exists('courier_sandbox_shipments'):
        op.create_table('courier_sandbox_shipments',
        sa.Column('tracking_number', sa.String(length=32), nullable=False),
        sa.Column('shipment_id', sa.String(length=40), nullable=False),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False),
        sa.Column('reference', sa.String(length=60), nullable=False),
        sa.Column('recipient_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tracking_number', name=op.f('pk_courier_sandbox_shipments')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_courier_sandbox_shipments_idempotency_key')),
        sa.UniqueConstraint('shipment_id', name=op.f('uq_courier_sandbox_shipments_shipment_id'))
        )

    if not _exists('courier_sandbox_pickups'):
        op.create_table('courier_sandbox_pickups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tracking_number', sa.String(length=32), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False),
        sa.Column('confirmation', sa.String(length=40), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tracking_number'], ['courier_sandbox_shipments.tracking_number'],
                                name=op.f('fk_courier_sandbox_pickups_tracking_number_courier_sandbox_shipments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_courier_sandbox_pickups')),
        sa.UniqueConstraint('confirmation', name=op.f('uq_courier_sandbox_pickups_confirmation')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_courier_sandbox_pickups_idempotency_key'))
        )
        with op.batch_alter_table('courier_sandbox_pickups', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_courier_sandbox_pickups_tracking_number'), ['tracking_number'],
                                  unique=False)


def downgrade():
    with op.batch_alter_table('courier_sandbox_pickups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courier_sandbox_pickups_tracking_number'))
    op.drop_table('courier_sandbox_pickups')
    op.drop_table('courier_sandbox_shipments')
