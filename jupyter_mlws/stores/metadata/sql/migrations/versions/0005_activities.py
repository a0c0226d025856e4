"""activities

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 21:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activities',
    sa.Column('activity_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('end_time', sa.Float(), nullable=True),
    sa.Column('progress', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=255), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('log', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_activities'))
    )
    op.create_index(op.f('ix_activities_created_time'), 'activities', ['created_time'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_activities_created_time'), table_name='activities')
    op.drop_table('activities')
