"""credentials

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table for the new foreign key, PostgreSQL alters it in place
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("token", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("revocation_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_credentials_revoked_by_users"), "users", ["revoked_by"], ["id"])
        # one standing credential per attempt; revoked ones stay beside it
        batch_op.create_index(
            "ix_credentials_attempt_id_standing",
            ["attempt_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index("ix_credentials_attempt_id_standing")
        batch_op.drop_constraint(batch_op.f("fk_credentials_revoked_by_users"), type_="foreignkey")
        batch_op.drop_column("revocation_reason")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("token")
        batch_op.drop_column("holder_name")
