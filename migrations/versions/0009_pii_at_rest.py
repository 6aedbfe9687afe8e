"""personal data at rest: CCCD and phone encrypted, with blind indexes

``dossiers.citizen_id_number``, ``dossiers.citizen_phone`` and ``sms_messages.phone`` become
Fernet tokens (core/pii.py, keys from PII_ENCRYPTION_KEYS / PII_HASH_KEY or the instance's
generated key file); equality search moves to the keyed-hash columns beside them. Existing rows
are encrypted in place. Runs inside the app (Flask-Migrate), which holds the keys.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    from core import pii

    with op.batch_alter_table('dossiers') as batch:
        batch.drop_index('ix_dossiers_citizen_id_number')
        batch.drop_index('ix_dossiers_citizen_phone')
        batch.alter_column('citizen_id_number', type_=sa.String(length=255), existing_nullable=False)
        batch.alter_column('citizen_phone', type_=sa.String(length=255), existing_nullable=False)
        batch.add_column(sa.Column('citizen_id_number_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('citizen_phone_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('sms_messages') as batch:
        batch.drop_index('ix_sms_messages_phone_sent_at')
        batch.alter_column('phone', type_=sa.String(length=255), existing_nullable=True)
        batch.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, citizen_id_number, citizen_phone FROM dossiers")).all():
        bind.execute(sa.text("UPDATE dossiers SET citizen_id_number = :c, citizen_id_number_hash = :ch, "
                             "citizen_phone = :p, citizen_phone_hash = :ph WHERE id = :id"),
                     {"id": row.id, "c": pii.encrypt(row.citizen_id_number),
                      "ch": pii.blind_index("cccd", row.citizen_id_number),
                      "p": pii.encrypt(row.citizen_phone), "ph": pii.blind_index("phone", row.citizen_phone)})
    for row in bind.execute(sa.text("SELECT id, phone FROM sms_messages WHERE phone IS NOT NULL")).all():
        bind.execute(sa.text("UPDATE sms_messages SET phone = :p, phone_hash = :ph WHERE id = :id"),
                     {"id": row.id, "p": pii.encrypt(row.phone), "ph": pii.blind_index("phone", row.phone)})
    with op.batch_alter_table('dossiers') as batch:
        batch.alter_column('citizen_id_number_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('citizen_phone_hash', existing_type=sa.String(length=64), nullable=False)
        batch.create_index(batch.f('ix_dossiers_citizen_id_number_hash'), ['citizen_id_number_hash'], unique=False)
        batch.create_index(batch.f('ix_dossiers_citizen_phone_hash'), ['citizen_phone_hash'], unique=False)
    with op.batch_alter_table('sms_messages') as batch:
        batch.create_index('ix_sms_messages_phone_hash_sent_at', ['phone_hash', 'sent_at'], unique=False)


def downgrade():
    from core import pii

    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, citizen_id_number, citizen_phone FROM dossiers")).all():
        bind.execute(sa.text("UPDATE dossiers SET citizen_id_number = :c, citizen_phone = :p WHERE id = :id"),
                     {"id": row.id, "c": pii.decrypt(row.citizen_id_number), "p": pii.decrypt(row.citizen_phone)})
    for row in bind.execute(sa.text("SELECT id, phone FROM sms_messages WHERE phone IS NOT NULL")).all():
        bind.execute(sa.text("UPDATE sms_messages SET phone = :p WHERE id = :id"),
                     {"id": row.id, "p": pii.decrypt(row.phone)})
    with op.batch_alter_table('sms_messages') as batch:
        batch.drop_index('ix_sms_messages_phone_hash_sent_at')
        batch.drop_column('phone_hash')
        batch.alter_column('phone', type_=sa.String(length=20), existing_nullable=True)
        batch.create_index('ix_sms_messages_phone_sent_at', ['phone', 'sent_at'], unique=False)
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_index(batch.f('ix_dossiers_citizen_phone_hash'))
        batch.drop_index(batch.f('ix_dossiers_citizen_id_number_hash'))
        batch.drop_column('citizen_phone_hash')
        batch.drop_column('citizen_id_number_hash')
        batch.alter_column('citizen_phone', type_=sa.String(length=20), existing_nullable=False)
        batch.alter_column('citizen_id_number', type_=sa.String(length=12), existing_nullable=False)
        batch.create_index(batch.f('ix_dossiers_citizen_phone'), ['citizen_phone'], unique=False)
        batch.create_index(batch.f('ix_dossiers_citizen_id_number'), ['citizen_id_number'], unique=False)
