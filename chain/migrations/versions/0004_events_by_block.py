"""Events by block: the catalogue folds the events after its last block (chain/catalogue.py
`load`) and a sync replaces a block range's (chain/indexer.py), after every relayed batch; without
this index both scanned every event, so each write cost as much as the catalogue was large.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("events_by_block", "events", ["block", "log_index"])


def downgrade() -> None:
    op.drop_index("events_by_block", table_name="events")
