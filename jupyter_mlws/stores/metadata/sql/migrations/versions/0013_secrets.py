"""workspace secrets (encrypted values by name)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 20:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('secrets',
    sa.Column('key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=127), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('updated_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_secrets')),
    sa.UniqueConstraint('name', name=op.f('uq_secrets_name'))
    )


def downgrade() -> None:
    op.drop_table('secrets')
