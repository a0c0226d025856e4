"""datasets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 03:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_names',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('last_version', sa.Integer(), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_dataset_names'))
    )
    op.create_table('dataset_versions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('content_key', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('file_count', sa.BigInteger(), nullable=False),
    sa.Column('total_size', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=True),
    sa.Column('schema', sa.Text(), nullable=True),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['name'], ['dataset_names.name'], name=op.f('fk_dataset_versions_name_dataset_names'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_versions')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_dataset_versions_name_version'))
    )
    op.create_table('run_dataset_inputs',
    sa.Column('run_key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('input_name', sa.String(length=255), nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=True),
    sa.Column('dataset_name', sa.String(length=255), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['run_key'], ['runs.key'], name=op.f('fk_run_dataset_inputs_run_key_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_key', 'input_name', name=op.f('pk_run_dataset_inputs'))
    )
    op.create_index(op.f('ix_run_dataset_inputs_dataset_id'), 'run_dataset_inputs', ['dataset_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_run_dataset_inputs_dataset_id'), table_name='run_dataset_inputs')
    op.drop_table('run_dataset_inputs')
    op.drop_table('dataset_versions')
    op.drop_table('dataset_names')
