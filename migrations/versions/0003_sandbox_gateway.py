"""sandbox gateway (now a no-op: the tables moved to the sandbox_gateway branch)

Until the sandboxes became dev plugins this revision created the sandbox gateway's ``sandbox_*``
tables in every database. They now belong to the ``sandbox_gateway`` branch
(sandboxes/gateway/migrations/versions), applied only where the sandbox gateway is mounted, and
whose first revision creates each table only if it is missing: a database that ran the old 0003
keeps its tables and their rows, a new production database never gets them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:18:13.161157

"""


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
