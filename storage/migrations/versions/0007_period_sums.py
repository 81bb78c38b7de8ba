"""a data set version's sales summed per period over the total and each group

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "period_sums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=512), nullable=False),
        sa.Column("ds", sa.DateTime(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("filled_y", sa.Float(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_period_sums_dataset_scope_ds", "period_sums", ["dataset_id", "scope", "ds"])


def downgrade() -> None:
    op.drop_index("ix_period_sums_dataset_scope_ds", table_name="period_sums")
    op.drop_table("period_sums")
