"""The API's rate limiter, shared by its workers: writes per client and minute.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table("rate_windows", sa.Column("key", sa.Text, nullable=False),
                    sa.Column("minute", sa.BigInteger, nullable=False, autoincrement=False),
                    sa.Column("count", sa.Integer, nullable=False), sa.PrimaryKeyConstraint("key", "minute"))


def downgrade() -> None:
    op.drop_table("rate_windows")
