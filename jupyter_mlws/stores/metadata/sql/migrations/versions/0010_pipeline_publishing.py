"""published pipelines, pipeline endpoints, pipeline tokens, schedules and schedule fires

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('published_pipelines',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.String(length=255), nullable=True),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('continue_on_step_failure', sa.Integer(), nullable=True),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_pipelines'))
    )
    op.create_index(op.f('ix_published_pipelines_name'), 'published_pipelines', ['name'], unique=False)
    op.create_table('pipeline_endpoints',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('default_version', sa.String(length=32), nullable=False),
    sa.Column('last_version', sa.Integer(), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_endpoints')),
    sa.UniqueConstraint('name', name=op.f('uq_pipeline_endpoints_name'))
    )
    op.create_table('pipeline_endpoint_versions',
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('pipeline_id', sa.String(length=64), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['pipeline_endpoints.id'], name=op.f('fk_pipeline_endpoint_versions_endpoint_id_pipeline_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['published_pipelines.id'], name=op.f('fk_pipeline_endpoint_versions_pipeline_id_published_pipelines')),
    sa.PrimaryKeyConstraint('endpoint_id', 'version', name=op.f('pk_pipeline_endpoint_versions'))
    )
    op.create_table('pipeline_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_pipeline_tokens'))
    )
    op.create_index(op.f('ix_pipeline_tokens_scope_target_id'), 'pipeline_tokens', ['scope', 'target_id'], unique=False)
    op.create_table('schedules',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('pipeline_id', sa.String(length=64), nullable=True),
    sa.Column('pipeline_endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('experiment_name', sa.String(length=255), nullable=False),
    sa.Column('recurrence', sa.Text(), nullable=True),
    sa.Column('datastore_name', sa.String(length=255), nullable=True),
    sa.Column('path_on_datastore', sa.Text(), nullable=True),
    sa.Column('polling_interval', sa.Integer(), nullable=True),
    sa.Column('data_path_parameter_name', sa.String(length=255), nullable=True),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('continue_on_step_failure', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('catch_up', sa.String(length=16), nullable=False),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('anchor_time', sa.BigInteger(), nullable=False),
    sa.Column('last_fire_time', sa.BigInteger(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('next_poll_time', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['pipeline_endpoint_id'], ['pipeline_endpoints.id'], name=op.f('fk_schedules_pipeline_endpoint_id_pipeline_endpoints')),
    sa.ForeignKeyConstraint(['pipeline_id'], ['published_pipelines.id'], name=op.f('fk_schedules_pipeline_id_published_pipelines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    op.create_index(op.f('ix_schedules_pipeline_id'), 'schedules', ['pipeline_id'], unique=False)
    op.create_index(op.f('ix_schedules_status'), 'schedules', ['status'], unique=False)
    op.create_table('schedule_fires',
    sa.Column('schedule_id', sa.String(length=64), nullable=False),
    sa.Column('fire_time', sa.BigInteger(), nullable=False),
    sa.Column('claimed_time', sa.Float(), nullable=False),
    sa.Column('claimed_by', sa.String(length=255), nullable=False),
    sa.Column('run_id', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_fires_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('schedule_id', 'fire_time', name=op.f('pk_schedule_fires'))
    )


def downgrade() -> None:
    op.drop_table('schedule_fires')
    op.drop_index(op.f('ix_schedules_status'), table_name='schedules')
    op.drop_index(op.f('ix_schedules_pipeline_id'), table_name='schedules')
    op.drop_table('schedules')
    op.drop_index(op.f('ix_pipeline_tokens_scope_target_id'), table_name='pipeline_tokens')
    op.drop_table('pipeline_tokens')
    op.drop_table('pipeline_endpoint_versions')
    op.drop_table('pipeline_endpoints')
    op.drop_index(op.f('ix_published_pipelines_name'), table_name='published_pipelines')
    op.drop_table('published_pipelines')
