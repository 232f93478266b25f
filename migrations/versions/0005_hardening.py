"""hardening: one audit chain per agency (its head row serializes only that
agency's appends), signed checkpoints that anchor every chain's length and
head, TRUNCATE refused on the append-only tables (PostgreSQL), and a limit
on the referrals one agency may have waiting at another's shelter

Entries written before this revision keep their place in the one old chain
(``seq`` NULL: the "audit:legacy" chain, verified in id order as before).

Revision ID: 0005
Revises: 0004

"""

from alembic import op
import sqlalchemy as sa

from advocacy.appendonly import (
    append_only_statements,
    drop_append_only_statements,
    drop_no_truncate_statements,
    no_truncate_statements,
)

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("audit_event", sa.Column("chain_id", sa.Integer(), server_default="0", nullable=False))
    op.add_column("audit_event", sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("uq_audit_event_chain_id_seq", "audit_event", ["chain_id", "seq"], unique=True)
    op.create_table(
        "audit_chain",
        sa.Column("chain_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_audit_chain")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("first_bad", sa.Integer(), nullable=True),
        sa.Column("missing", sa.Integer(), nullable=True),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    op.create_index("ix_audit_checkpoint_chain_id", "audit_checkpoint", ["chain", "id"], unique=False)
    _run(append_only_statements("audit_checkpoint", dialect))
    op.add_column(
        "network_settings",
        sa.Column("pending_referrals_per_agency", sa.Integer(), server_default="2", nullable=False),
    )
    for table in ("audit_event", "availability_event", "audit_checkpoint"):
        _run(no_truncate_statements(table, dialect))


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in ("audit_checkpoint", "availability_event", "audit_event"):
        _run(drop_no_truncate_statements(table, dialect))
    _run(drop_append_only_statements("audit_checkpoint", dialect))
    with op.batch_alter_table("network_settings", schema=None) as batch_op:
        batch_op.drop_column("pending_referrals_per_agency")
    op.drop_index("ix_audit_checkpoint_chain_id", table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_chain")
    op.drop_index("uq_audit_event_chain_id_seq", table_name="audit_event")
    if dialect == "sqlite":
        # SQLite drops a column by copying the table, which loses its triggers.
        _run(drop_append_only_statements("audit_event", dialect))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("seq")
        batch_op.drop_column("chain_id")
    if dialect == "sqlite":
        _run(append_only_statements("audit_event", dialect))
