"""hashed tracking links

The citizen's tracking tokens move from ``dossiers.tracking_token`` (plaintext) to
``tracking_links`` where only their SHA-256 is kept; links already handed out keep working.

Revision ID: 0008
Revises: 0007
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tracking_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_tracking_links_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_tracking_links_token_hash')),
    )
    op.create_index(op.f('ix_tracking_links_dossier_id'), 'tracking_links', ['dossier_id'], unique=False)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, tracking_token, received_at FROM dossiers")).all()
    for row in rows:  # the dossier's received_at as it is stored (a string on SQLite)
        bind.execute(sa.text("INSERT INTO tracking_links (dossier_id, token_hash, channel, created_at) "
                             "VALUES (:d, :h, 'legacy', :at)"),
                     {"d": row.id, "h": hashlib.sha256(row.tracking_token.encode()).hexdigest(), "at": row.received_at})
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_constraint('uq_dossiers_tracking_token', type_='unique')
        batch.drop_column('tracking_token')
    # The citizen's rating of the service: once per dossier, after delivery or collection.
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=False),
        sa.Column('comment', sa.String(length=1000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_feedback_rating_1_to_5')),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_feedback_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('dossier_id', name=op.f('uq_feedback_dossier_id')),
    )


def downgrade():
    op.drop_table('feedback')
    # The plaintext tokens are gone by design: old links cannot be restored, new ones are issued.
    import secrets

    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(sa.Column('tracking_token', sa.String(length=32), nullable=True))
    bind = op.get_bind()
    for (dossier_id,) in bind.execute(sa.text("SELECT id FROM dossiers")).all():
        bind.execute(sa.text("UPDATE dossiers SET tracking_token = :t WHERE id = :i"),
                     {"t": secrets.token_urlsafe(16), "i": dossier_id})
    with op.batch_alter_table('dossiers') as batch:
        batch.alter_column('tracking_token', nullable=False)
        batch.create_unique_constraint('uq_dossiers_tracking_token', ['tracking_token'])
    op.drop_index(op.f('ix_tracking_links_dossier_id'), table_name='tracking_links')
    op.drop_table('tracking_links')
