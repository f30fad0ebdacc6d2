"""login tries still being checked, kept apart from failures

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # an address is locked by failures whose check has ended, not by sign-ins still in flight
    with op.batch_alter_table("login_throttles") as batch:
        batch.add_column(sa.Column("checking", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("login_throttles") as batch:
        batch.drop_column("checking")
