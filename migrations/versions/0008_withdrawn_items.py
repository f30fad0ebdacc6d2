"""withdrawn items

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import exam_service.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # an item withdrawn by a retirement file: its id is never published again
    with op.batch_alter_table("bank_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", exam_service.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_items", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_at")
