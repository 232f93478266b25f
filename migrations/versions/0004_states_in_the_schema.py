"""states in the schema: every state column holds only its machine's values, and
each state carries what it needs (a held bed its hold, an occupied bed its stay,
a bed out of service its reason, a closed case its date); rooms, beds and holds
belong to their shelter's agency through composite keys

Revision ID: 0004
Revises: 0003

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _in(column, *values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


BED_STATES = ("available", "held", "occupied", "out_of_service")
HOLD_STATES = ("active", "released", "expired", "checked_in")
REFERRAL_STATES = ("pending", "accepted", "declined", "cancelled", "expired", "arrived")
STEPS = ("person", "contact", "household", "needs", "screen", "consent", "placement")
PROTOCOL_STEPS = ("hotline", "priority_placement", "denser_reminders", "offer_share")

#: (table, [(constraint name, condition)]): the same rules the models declare.
CHECKS = [
    ("room", [("ck_room_room_type", _in("room_type", "single", "family"))]),
    (
        "bed",
        [
            ("ck_bed_bed_type", _in("bed_type", "adult", "child", "crib")),
            ("ck_bed_state", _in("state", *BED_STATES)),
            (
                "ck_bed_out_of_service_reason",
                _in("out_of_service_reason", "repair", "cleaning", "safety", "staffing", "other"),
            ),
            ("ck_bed_held_has_hold", "(state = 'held') = (hold_id IS NOT NULL)"),
            ("ck_bed_occupied_has_stay", "(state = 'occupied') = (stay_id IS NOT NULL)"),
            (
                "ck_bed_out_of_service_has_reason",
                "(state = 'out_of_service') = (out_of_service_reason IS NOT NULL)",
            ),
        ],
    ),
    (
        "hold",
        [
            ("ck_hold_status", _in("status", *HOLD_STATES)),
            ("ck_hold_ended_when_not_active", "(status = 'active') = (ended_at IS NULL)"),
        ],
    ),
    (
        "referral",
        [
            ("ck_referral_status", _in("status", *REFERRAL_STATES)),
            (
                "ck_referral_decline_reason",
                _in("decline_reason", "no_longer_available", "not_a_fit", "safety", "other"),
            ),
            ("ck_referral_reason_only_when_declined", "decline_reason IS NULL OR status = 'declined'"),
        ],
    ),
    ("stay", [("ck_stay_out_after_in", "checked_out_at IS NULL OR checked_out_at >= checked_in_at")]),
    (
        "case_file",
        [
            ("ck_case_file_status", _in("status", "open", "closed")),
            ("ck_case_file_danger", _in("danger", "high", "standard", "unscreened")),
            ("ck_case_file_closed_when", "(status = 'closed') = (closed_at IS NOT NULL)"),
            ("ck_case_file_reason_only_when_closed", "status = 'closed' OR close_reason IS NULL"),
        ],
    ),
    ("intake_draft", [("ck_intake_draft_step", _in("step", *STEPS))]),
    (
        "protocol_step",
        [
            ("ck_protocol_step_step", _in("step", *PROTOCOL_STEPS)),
            ("ck_protocol_step_outcome", _in("outcome", "done", "declined", "not_possible")),
        ],
    ),
    ("case_placement", [("ck_case_placement_kind", _in("kind", "referral", "no_bed_needed", "later"))]),
]

#: (table, name, local columns, remote table, remote columns)
COMPOSITE_KEYS = [
    ("room", "fk_room_shelter_agency", ["shelter_id", "agency_id"], "shelter", ["id", "agency_id"]),
    ("bed", "fk_bed_room_shelter", ["room_id", "shelter_id"], "room", ["id", "shelter_id"]),
    ("bed", "fk_bed_shelter_agency", ["shelter_id", "agency_id"], "shelter", ["id", "agency_id"]),
    ("hold", "fk_hold_shelter_agency", ["shelter_id", "agency_id"], "shelter", ["id", "agency_id"]),
]


def upgrade():
    # The targets of the composite keys first.
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_shelter_id_agency'), ['id', 'agency_id'])
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_room_id_shelter'), ['id', 'shelter_id'])
    keys = {}
    for table, name, local, remote, remote_cols in COMPOSITE_KEYS:
        keys.setdefault(table, []).append((name, local, remote, remote_cols))
    tables = [table for table, _checks in CHECKS]
    for table in tables:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, local, remote, remote_cols in keys.get(table, []):
                batch_op.create_foreign_key(op.f(name), remote, local, remote_cols)
            for name, condition in dict(CHECKS)[table]:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    for table, checks in reversed(CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in checks:
                batch_op.drop_constraint(op.f(name), type_='check')
            for key_table, name, *_rest in COMPOSITE_KEYS:
                if key_table == table:
                    batch_op.drop_constraint(op.f(name), type_='foreignkey')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_room_id_shelter'), type_='unique')
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_shelter_id_agency'), type_='unique')
