"""sms: the outbox also carries pieces of a safety plan the advocate texts
(a new message kind, ``plan_text``, in the kind's CHECK constraint)

Revision ID: 0011
Revises: 0010

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = ("code", "reminder", "changed", "cancelled", "help", "opt_out", "opt_in", "attendance")


def _in(column, *values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_constraint(op.f("ck_sms_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_sms_outbox_kind"), _in("kind", *KINDS, "plan_text"))


def downgrade():
    op.execute("DELETE FROM sms_outbox WHERE kind = 'plan_text'")
    with op.batch_alter_table("sms_outbox") as batch:
        batch.drop_constraint(op.f("ck_sms_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_sms_outbox_kind"), _in("kind", *KINDS))
