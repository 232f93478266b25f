"""audit heads moved by the database: a trigger on each entry written moves its
chain's head (the append sends two statements, not three)

Revision ID: 0016
Revises: 0015b

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015b"
branch_labels = None
depends_on = None

# advocacy.audit.models.head_trigger_statements as this revision made them, copied so
# that a later change to the model needs a revision of its own
# (tests/test_migrations.py compares the two).
UPGRADE = {
    "sqlite": [
        "CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event "
        "WHEN NEW.seq IS NOT NULL "
        "BEGIN UPDATE audit_chain SET head = NEW.entry_hash WHERE chain_id = NEW.chain_id; END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_event_moves_head() RETURNS trigger AS $$ "
        "BEGIN UPDATE audit_chain SET head = NEW.entry_hash WHERE chain_id = NEW.chain_id; "
        "RETURN NULL; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event "
        "FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_event_moves_head()",
    ],
}
DOWNGRADE = {
    "sqlite": ["DROP TRIGGER audit_event_moves_head"],
    "postgresql": [
        "DROP TRIGGER audit_event_moves_head ON audit_event",
        "DROP FUNCTION audit_event_moves_head()",
    ],
}


def upgrade():
    for statement in UPGRADE[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in DOWNGRADE[op.get_bind().dialect.name]:
        op.execute(statement)
