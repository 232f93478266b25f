"""sms: a subscription records the victim's language when the texts are in
the agency's fallback language (``fallback_for``); an unknown send records
when the reconciler last asked Twilio about it (``checked_at``); unknown
sends of an agency have their own partial index (the advocates' page and the
home panel)

Revision ID: 0012
Revises: 0011

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sms_subscription") as batch:
        batch.add_column(sa.Column("fallback_for", sa.String(length=35), nullable=True))
    with op.batch_alter_table("sms_outbox") as batch:
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_sms_outbox_unknown",
            ["agency_id", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'unknown'"),
            sqlite_where=sa.text("state = 'unknown'"),
        )


def downgrade():
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_index("ix_sms_outbox_unknown")
        batch.drop_column("checked_at")
    with op.batch_alter_table("sms_subscription") as batch:
        batch.drop_column("fallback_for")
