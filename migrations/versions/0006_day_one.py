"""day one: a blind index of cases' names (tokens and their sounds); a lower
re-screen of a high-danger case waits for an advocate's review; an unfinished
intake keeps its name apart from its answers

Revision ID: 0006
Revises: 0005

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_name_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('phonetic', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_case_name_key_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_name_key_case_id_case_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_name_key')),
    sa.UniqueConstraint('case_id', 'key_hash', name='uq_case_name_key')
    )
    with op.batch_alter_table('case_name_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_name_key_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_name_key_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_name_key_hash', ['key_hash', 'case_id', 'phonetic'], unique=False)

    with op.batch_alter_table('risk_screening', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lower_pending', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('lowered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lowered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lowering_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_risk_screening_lowered_by_id_user_account'), 'user_account', ['lowered_by_id'], ['id']
        )
        batch_op.create_check_constraint(
            op.f('ck_risk_screening_lowered_with_reason'), '(lowered_at IS NULL) = (lowering_reason IS NULL)'
        )
        batch_op.create_check_constraint(
            op.f('ck_risk_screening_pending_or_lowered'), 'NOT (lower_pending AND lowered_at IS NOT NULL)'
        )

    with op.batch_alter_table('intake_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alias', sa.Text(), nullable=True))

    import json

    from advocacy.types import EncryptedString

    drafts = sa.table('intake_draft', sa.column('id', sa.Integer()), sa.column('data', EncryptedString()),
                      sa.column('alias', EncryptedString()))
    bind = op.get_bind()
    for draft_id, data in bind.execute(sa.select(drafts.c.id, drafts.c.data)).all():
        alias = (json.loads(data or '{}').get('steps', {}).get('person', {}).get('alias') or '').strip()
        if alias:
            bind.execute(drafts.update().where(drafts.c.id == draft_id).values(alias=alias))

    # Cases opened before this revision become findable by any of their names:
    # Flask-Migrate runs inside the app, so the keys are loaded.
    from advocacy.intake.service.names import reindex_all

    reindex_all(Session(bind=op.get_bind()))


def downgrade():
    with op.batch_alter_table('intake_draft', schema=None) as batch_op:
        batch_op.drop_column('alias')

    with op.batch_alter_table('risk_screening', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_risk_screening_pending_or_lowered'), type_='check')
        batch_op.drop_constraint(op.f('ck_risk_screening_lowered_with_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_risk_screening_lowered_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('lowering_reason')
        batch_op.drop_column('lowered_by_id')
        batch_op.drop_column('lowered_at')
        batch_op.drop_column('lower_pending')

    with op.batch_alter_table('case_name_key', schema=None) as batch_op:
        batch_op.drop_index('ix_case_name_key_hash')
        batch_op.drop_index(batch_op.f('ix_case_name_key_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_name_key_agency_id'))

    op.drop_table('case_name_key')
