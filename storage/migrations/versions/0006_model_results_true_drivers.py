"""model results name the drivers whose true held-out values their test scores used

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("true_drivers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_results", schema=None) as batch_op:
        batch_op.drop_column("true_drivers")
