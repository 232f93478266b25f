"""sms: each agency's sender, subscriptions confirmed by a code, the outbox the
workers claim from, status callbacks kept once, inbound replies, and the
per-sender send slots of the rate limit

Revision ID: 0007
Revises: 0006

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _in(column, *values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


SUB_STATES = ("pending", "confirmed", "opted_out", "ended")
END_REASONS = ("advocate", "code_failed", "code_expired", "opted_out", "invalid_number", "replaced")
STYLES = ("discreet", "detailed")
MESSAGE_STATES = ("queued", "claimed", "sent", "delivered", "failed", "cancelled", "unknown")
KINDS = ("code", "reminder", "changed", "cancelled", "help", "opt_out", "opt_in", "attendance")
ATTENTION = ("undeliverable", "opted_out", "invalid_number", "filtered", "unknown", "expired")
REPLIES = ("opt_out", "opt_in", "help", "confirm", "other")


def upgrade():
    op.create_table('sms_sender',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('program_name', sa.String(length=30), nullable=False),
    sa.Column('help_contact', sa.String(length=25), nullable=False),
    sa.Column('messaging_service_sid', sa.String(length=34), nullable=True),
    sa.Column('from_number', sa.String(length=20), nullable=True),
    sa.Column('rate_per_second', sa.Float(), nullable=False),
    sa.Column('quiet_start', sa.Integer(), nullable=False),
    sa.Column('quiet_end', sa.Integer(), nullable=False),
    sa.Column('fallback_locale', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_sms_sender_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_sms_sender'))
    )
    op.create_table('sms_send_rate',
    sa.Column('sender_key', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sender_key', name=op.f('pk_sms_send_rate'))
    )
    op.create_table('sms_callback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=34), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_callback')),
    sa.UniqueConstraint('message_sid', 'status', name='uq_sms_callback_sid_status')
    )
    op.create_table('sms_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('style', sa.String(length=16), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('quiet_start', sa.Integer(), nullable=False),
    sa.Column('quiet_end', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('end_reason', sa.String(length=24), nullable=True),
    sa.Column('draft_acknowledged', sa.Boolean(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in("style", *STYLES), name=op.f('ck_sms_subscription_style')),
    sa.CheckConstraint(_in("state", *SUB_STATES), name=op.f('ck_sms_subscription_state')),
    sa.CheckConstraint(_in("end_reason", *END_REASONS), name=op.f('ck_sms_subscription_end_reason')),
    sa.CheckConstraint(
        "quiet_start BETWEEN 0 AND 1439 AND quiet_end BETWEEN 0 AND 1439",
        name=op.f('ck_sms_subscription_quiet_minutes'),
    ),
    sa.CheckConstraint(
        "(state IN ('opted_out', 'ended')) = (ended_at IS NOT NULL)",
        name=op.f('ck_sms_subscription_ended_when_stopped'),
    ),
    sa.CheckConstraint(
        "state <> 'confirmed' OR confirmed_at IS NOT NULL", name=op.f('ck_sms_subscription_confirmed_when')
    ),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_sms_subscription_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_sms_subscription_case_id_case_file')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_sms_subscription_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_subscription'))
    )
    with op.batch_alter_table('sms_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_subscription_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_subscription_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_sms_subscription_phone', ['phone_hash', 'agency_id'], unique=False)
        batch_op.create_index(
            'uq_sms_subscription_live_case', ['case_id'], unique=True,
            postgresql_where=sa.text("state IN ('pending', 'confirmed')"),
            sqlite_where=sa.text("state IN ('pending', 'confirmed')"),
        )

    op.create_table('sms_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=34), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint(_in("kind", *REPLIES), name=op.f('ck_sms_inbound_kind')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_sms_inbound_agency_id_agency')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_sms_inbound_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['subscription_id'], ['sms_subscription.id'], name=op.f('fk_sms_inbound_subscription_id_sms_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_sms_inbound_message_sid'))
    )
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.create_index(
            'ix_sms_inbound_open', ['agency_id', 'id'], unique=False,
            postgresql_where=sa.text('handled_at IS NULL'),
            sqlite_where=sa.text('handled_at IS NULL'),
        )

    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_sid', sa.String(length=34), nullable=True),
    sa.Column('provider_status', sa.String(length=16), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attention', sa.String(length=16), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(_in("kind", *KINDS), name=op.f('ck_sms_outbox_kind')),
    sa.CheckConstraint(_in("state", *MESSAGE_STATES), name=op.f('ck_sms_outbox_state')),
    sa.CheckConstraint(_in("attention", *ATTENTION), name=op.f('ck_sms_outbox_attention')),
    sa.CheckConstraint('valid_until > send_after', name=op.f('ck_sms_outbox_valid_after_send')),
    sa.CheckConstraint(
        "(state = 'claimed') = (lease_until IS NOT NULL)", name=op.f('ck_sms_outbox_lease_when_claimed')
    ),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_sms_outbox_attempts_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_sms_outbox_agency_id_agency')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_sms_outbox_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['subscription_id'], ['sms_subscription.id'], name=op.f('fk_sms_outbox_subscription_id_sms_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_sms_outbox_provider_sid'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_sms_outbox_subscription', ['subscription_id', 'id'], unique=False)
        batch_op.create_index(
            'ix_sms_outbox_due', ['send_after', 'id'], unique=False,
            postgresql_where=sa.text("state = 'queued'"),
            sqlite_where=sa.text("state = 'queued'"),
        )
        batch_op.create_index(
            'ix_sms_outbox_lease', ['lease_until'], unique=False,
            postgresql_where=sa.text("state = 'claimed'"),
            sqlite_where=sa.text("state = 'claimed'"),
        )
        batch_op.create_index(
            'uq_sms_outbox_once', ['source_type', 'source_id', 'kind', 'subscription_id', 'planned_at'],
            unique=True,
            postgresql_where=sa.text("state <> 'cancelled'"),
            sqlite_where=sa.text("state <> 'cancelled'"),
        )
        batch_op.create_index(
            'ix_sms_outbox_attention', ['agency_id', 'id'], unique=False,
            postgresql_where=sa.text('attention IS NOT NULL AND handled_at IS NULL'),
            sqlite_where=sa.text('attention IS NOT NULL AND handled_at IS NULL'),
        )


def downgrade():
    op.drop_table('sms_outbox')
    op.drop_table('sms_inbound')
    op.drop_table('sms_subscription')
    op.drop_table('sms_callback')
    op.drop_table('sms_send_rate')
    op.drop_table('sms_sender')
