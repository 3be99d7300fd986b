"""The event index: meta (last block, epoch, deployment), events, blocks. `if_not_exists`: SQLite
indexes made before Alembic have these tables already and keep their rows.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("meta", sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text, nullable=False),
                    if_not_exists=True)
    op.create_table(
        "events",
        sa.Column("block", sa.BigInteger, nullable=False), sa.Column("block_hash", sa.Text, nullable=False),
        sa.Column("tx", sa.Text, nullable=False), sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False), sa.Column("contract", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False), sa.Column("work_id", sa.BigInteger),
        sa.Column("args", sa.Text, nullable=False), sa.PrimaryKeyConstraint("block_hash", "tx", "log_index"),
        if_not_exists=True,
    )
    op.create_index("events_by_name", "events", ["name", "block"], if_not_exists=True)
    op.create_index("events_by_work", "events", ["work_id", "block"], if_not_exists=True)
    op.create_table("blocks", sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("hash", sa.Text, nullable=False), if_not_exists=True)


def downgrade() -> None:
    for table in ("blocks", "events", "meta"):
        op.drop_table(table)
