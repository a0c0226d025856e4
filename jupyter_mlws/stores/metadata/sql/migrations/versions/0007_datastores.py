"""datastores

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 22:05:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('datastores',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Integer(), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_datastores'))
    )


def downgrade() -> None:
    op.drop_table('datastores')
