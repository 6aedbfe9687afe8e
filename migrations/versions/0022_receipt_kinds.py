"""receipts: the state fee receipt apart from the service invoice (receipts.document)

A receipt row now says which document it is: ``fee_receipt`` (biên lai thu phí, lệ phí: the state
fee only) or ``service_invoice`` (hóa đơn: the agent's and the courier's fees, with VAT). Rows of
before this revision carry both and are marked ``combined``: their signed text is untouched, so they
stay valid and verifiable as issued. One payment (or refund) may now have one of each document, so
the uniqueness of (kind, source_reference) becomes (document, kind, source_reference).

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.String(length=20), nullable=False, server_default='combined'))
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.alter_column('document', server_default=None)
        batch_op.drop_constraint(batch_op.f('uq_receipts_kind_source_reference'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_receipts_document_kind_source_reference'),
                                          ['document', 'kind', 'source_reference'])


def downgrade():
    # Signed documents are never deleted: going back is refused once any payment has two of them.
    both = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM receipts r WHERE EXISTS (SELECT 1 FROM receipts r2 WHERE r2.kind = r.kind "
        "AND r2.source_reference = r.source_reference AND r2.id <> r.id)")).scalar()
    if both:
        raise RuntimeError("receipts: payments with both a fee receipt and a service invoice cannot be downgraded")
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_receipts_document_kind_source_reference'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_receipts_kind_source_reference'), ['kind', 'source_reference'])
        batch_op.drop_column('document')
