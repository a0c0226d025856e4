"""pipeline step runs: the reuse index of pipeline steps

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pipeline_step_runs',
    sa.Column('run_key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step_name', sa.String(length=255), nullable=False),
    sa.Column('reuse_key', sa.String(length=64), nullable=True),
    sa.Column('parts', sa.Text(), nullable=False),
    sa.Column('outputs', sa.Text(), nullable=True),
    sa.Column('reused_from', sa.String(length=255), nullable=True),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_key'], ['runs.key'], name=op.f('fk_pipeline_step_runs_run_key_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_key', name=op.f('pk_pipeline_step_runs'))
    )
    op.create_index(op.f('ix_pipeline_step_runs_reuse_key'), 'pipeline_step_runs', ['reuse_key'], unique=False)
    op.create_index(op.f('ix_pipeline_step_runs_step_name'), 'pipeline_step_runs', ['step_name'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pipeline_step_runs_step_name'), table_name='pipeline_step_runs')
    op.drop_index(op.f('ix_pipeline_step_runs_reuse_key'), table_name='pipeline_step_runs')
    op.drop_table('pipeline_step_runs')
