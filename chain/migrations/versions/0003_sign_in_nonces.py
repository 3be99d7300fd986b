"""Sign-in nonces already used (api/siwe.py), shared by the API's workers: a signed sign-in message
opens one session, whichever worker it reaches and however often it is sent.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table("used_nonces", sa.Column("nonce", sa.Text, primary_key=True),
                    sa.Column("expires", sa.BigInteger, nullable=False))


def downgrade() -> None:
    op.drop_table("used_nonces")
