"""supervision identity: the supervisor's process start time and the job folder

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervisor_start', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('job_folder', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('job_folder')
        batch_op.drop_column('supervisor_start')
