"""home pages: an index for an advocate's open cases by danger level, and one for
the referrals a person made lately

Revision ID: 0014
Revises: 0013

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_file") as batch:
        batch.create_index(
            "ix_case_agency_owner_status_danger",
            ["agency_id", "owner_id", "status", "danger", "opened_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("referral") as batch:
        batch.create_index("ix_referral_referred_by_created", ["referred_by_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("referral") as batch:
        batch.drop_index("ix_referral_referred_by_created")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_index("ix_case_agency_owner_status_danger")
