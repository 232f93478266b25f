"""shelters: each shelter's intake line (encrypted), and whether the agency shares it
with the network

Revision ID: 0013
Revises: 0012

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shelter") as batch:
        batch.add_column(sa.Column("intake_phone", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("intake_phone_shared", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("shelter") as batch:
        batch.drop_column("intake_phone_shared")
        batch.drop_column("intake_phone")
