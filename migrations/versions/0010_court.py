"""court: each agency's courts (with their time zones) and reminder schedule,
court dates of a case whose status moves only along its machine, and the
append-only history of every change to a court date

Revision ID: 0010
Revises: 0009

"""

from alembic import op
import sqlalchemy as sa

from advocacy.appendonly import append_only_statements, drop_append_only_statements

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = ("protection_order", "arraignment", "pretrial", "trial", "sentencing", "review", "other")
STATUSES = ("scheduled", "continued", "cancelled", "held")


def _in(column, *values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    op.create_table(
        "court",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_court_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court")),
        sa.UniqueConstraint("agency_id", "name", name="uq_court_agency_name"),
        sa.UniqueConstraint("id", "agency_id", name="uq_court_id_agency"),
    )
    with op.batch_alter_table("court", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_court_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "court_settings",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("denser", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_court_settings_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_court_settings")),
    )
    op.create_table(
        "court_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("court_id", sa.Integer(), nullable=False),
        sa.Column("courtroom", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_court_event_agency_id_agency")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_court_event_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["court_id", "agency_id"], ["court.id", "court.agency_id"], name="fk_court_event_court_agency"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_court_event_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court_event")),
        sa.CheckConstraint(_in("kind", *KINDS), name=op.f("ck_court_event_kind")),
        sa.CheckConstraint(_in("status", *STATUSES), name=op.f("ck_court_event_status")),
    )
    with op.batch_alter_table("court_event", schema=None) as batch_op:
        batch_op.create_index("ix_court_event_agency_starts", ["agency_id", "starts_at"], unique=False)
        batch_op.create_index("ix_court_event_case_starts", ["case_id", "starts_at"], unique=False)

    op.create_table(
        "court_event_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("from_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("court_id", sa.Integer(), nullable=False),
        sa.Column("courtroom", sa.String(length=40), nullable=True),
        sa.Column("notified", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_court_event_change_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_court_event_change_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["court_id"], ["court.id"], name=op.f("fk_court_event_change_court_id_court")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["court_event.id"], name=op.f("fk_court_event_change_event_id_court_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court_event_change")),
    )
    with op.batch_alter_table("court_event_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_court_event_change_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_court_event_change_event", ["event_id", "occurred_at"], unique=False)

    for statement in append_only_statements("court_event_change", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only_statements("court_event_change", op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("court_event_change", schema=None) as batch_op:
        batch_op.drop_index("ix_court_event_change_event")
        batch_op.drop_index(batch_op.f("ix_court_event_change_agency_id"))

    op.drop_table("court_event_change")
    with op.batch_alter_table("court_event", schema=None) as batch_op:
        batch_op.drop_index("ix_court_event_case_starts")
        batch_op.drop_index("ix_court_event_agency_starts")

    op.drop_table("court_event")
    op.drop_table("court_settings")
    with op.batch_alter_table("court", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_court_agency_id"))

    op.drop_table("court")
