"""data drift detectors, and schedules that fire something other than a published pipeline

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drift_detectors',
    sa.Column('key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('schedule_id', sa.String(length=64), nullable=True),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('updated_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_drift_detectors')),
    sa.UniqueConstraint('name', name=op.f('uq_drift_detectors_name'))
    )
    with op.batch_alter_table('schedules') as batch:
        batch.add_column(sa.Column('target_kind', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('schedules') as batch:
        batch.drop_column('target_kind')
    op.drop_table('drift_detectors')
