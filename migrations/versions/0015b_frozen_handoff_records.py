"""frozen hand-off records: the database refuses to change what a released record says,
and to delete it (its state may still move on: delivered, withheld)

Revision ID: 0015b
Revises: 0014

"""

from alembic import op

from advocacy.appendonly import drop_frozen_columns_statements, frozen_columns_statements

# revision identifiers, used by Alembic.
revision = "0015b"
down_revision = "0014"
branch_labels = None
depends_on = None

# The columns as this revision froze them (advocacy.handoff.models.RECORD_FROZEN_COLUMNS then):
# a later change to the model's list needs a revision of its own.
FROZEN = (
    "uuid",
    "schema_version",
    "agency_id",
    "case_id",
    "partner_id",
    "consent_id",
    "partner_case_reference",
    "victim_reference",
    "event_type",
    "event_date",
    "choices",
    "summary",
    "corrects_id",
    "body",
    "released_by",
    "released_at",
)


def upgrade():
    for statement in frozen_columns_statements("handoff_record", FROZEN, op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_frozen_columns_statements("handoff_record", op.get_bind().dialect.name):
        op.execute(statement)
