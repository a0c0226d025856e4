"""web services: deployed services and the model versions they use

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webservices',
    sa.Column('key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('compute_type', sa.String(length=32), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('models', sa.Text(), nullable=False),
    sa.Column('inference', sa.Text(), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('properties', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_time', sa.Float(), nullable=False),
    sa.Column('updated_time', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_webservices')),
    sa.UniqueConstraint('name', name=op.f('uq_webservices_name'))
    )
    op.create_table('webservice_models',
    sa.Column('service_key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['model_key'], ['model_versions.key'], name=op.f('fk_webservice_models_model_key_model_versions')),
    sa.ForeignKeyConstraint(['service_key'], ['webservices.key'], name=op.f('fk_webservice_models_service_key_webservices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_key', 'model_key', name=op.f('pk_webservice_models'))
    )
    op.create_index(op.f('ix_webservice_models_model_key'), 'webservice_models', ['model_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webservice_models_model_key'), table_name='webservice_models')
    op.drop_table('webservice_models')
    op.drop_table('webservices')
