"""model results record the series whose forecast diverged

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("diverged", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_results", schema=None) as batch_op:
        batch_op.drop_column("diverged")
