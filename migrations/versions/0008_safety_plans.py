"""safety plans: one plan per case, every save a version (author, time, packs, language,
encrypted content), and each agency's local numbers

Revision ID: 0008
Revises: 0007

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safety_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('current_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('current_version >= 0', name=op.f('ck_safety_plan_version_not_negative')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_safety_plan_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_safety_plan_case_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan')),
    sa.UniqueConstraint('case_id', name='uq_safety_plan_case')
    )
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_plan_agency_id'), ['agency_id'], unique=False)

    op.create_table('safety_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('packs', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_safety_plan_version_number_positive')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_safety_plan_version_author_id_user_account')),
    sa.ForeignKeyConstraint(['plan_id'], ['safety_plan.id'], name=op.f('fk_safety_plan_version_plan_id_safety_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_safety_plan_version_number')
    )

    op.create_table('safety_local_number',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('hours', sa.String(length=120), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_safety_local_number_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_local_number'))
    )
    with op.batch_alter_table('safety_local_number', schema=None) as batch_op:
        batch_op.create_index('ix_safety_local_number_agency', ['agency_id', 'position'], unique=False)


def downgrade():
    with op.batch_alter_table('safety_local_number', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_local_number_agency')
    op.drop_table('safety_local_number')
    op.drop_table('safety_plan_version')
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_plan_agency_id'))
    op.drop_table('safety_plan')
