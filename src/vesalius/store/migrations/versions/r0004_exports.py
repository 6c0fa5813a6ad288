"""Exports: the segmentations (label maps) the analyses made, for DICOM SEG and SR exports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``segmentations``."""
    op.create_table(
        "segmentations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=False),
        sa.Column("algorithm_name", sa.String(length=128), nullable=False),
        sa.Column("algorithm_version", sa.String(length=64), nullable=False),
        sa.Column("blob_path", sa.String(length=255), nullable=False),
        sa.Column(
            "segments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_pk"],
            ["series.id"],
            name=op.f("fk_segmentations_series_pk_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["study_pk"],
            ["studies.id"],
            name=op.f("fk_segmentations_study_pk_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segmentations")),
    )
    op.create_index(
        op.f("ix_segmentations_series_pk"), "segmentations", ["series_pk"], unique=False
    )
    op.create_index(op.f("ix_segmentations_study_pk"), "segmentations", ["study_pk"], unique=False)


def downgrade() -> None:
    """Drop ``segmentations``."""
    op.drop_index(op.f("ix_segmentations_study_pk"), table_name="segmentations")
    op.drop_index(op.f("ix_segmentations_series_pk"), table_name="segmentations")
    op.drop_table("segmentations")
