"""Worklist: triage scores, claims, report links to findings and review feedback.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "study_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_pk"],
            ["studies.id"],
            name=op.f("fk_study_claims_study_pk_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_claims")),
        sa.UniqueConstraint("study_pk", name=op.f("uq_study_claims_study_pk")),
    )
    op.create_table(
        "report_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("sections", _json(), nullable=False),
        sa.Column("touched", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["reports.id"],
            name=op.f("fk_report_contents_report_pk_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_contents")),
        sa.UniqueConstraint("report_pk", name=op.f("uq_report_contents_report_pk")),
    )
    op.create_table(
        "study_triage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("order_priority", sa.String(length=16), nullable=True),
        sa.Column("patient_class", sa.String(length=32), nullable=True),
        sa.Column("arrived_at", _when(), nullable=False),
        sa.Column("study_date", sa.Date(), nullable=True),
        sa.Column("modalities", sa.String(length=64), nullable=False),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("findings_count", sa.Integer(), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=True),
        sa.Column("report_state", sa.String(length=16), nullable=True),
        sa.Column("reported", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["reports.id"],
            name=op.f("fk_study_triage_report_pk_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["study_pk"],
            ["studies.id"],
            name=op.f("fk_study_triage_study_pk_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_triage")),
        sa.UniqueConstraint("study_pk", name=op.f("uq_study_triage_study_pk")),
    )
    op.create_index(op.f("ix_study_triage_rank"), "study_triage", ["rank"], unique=False)
    op.create_index(
        op.f("ix_study_triage_arrived_at"), "study_triage", ["arrived_at"], unique=False
    )
    op.create_index(
        op.f("ix_study_triage_reported_arrived_at"),
        "study_triage",
        ["reported", "arrived_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_study_triage_reported_rank"), "study_triage", ["reported", "rank"], unique=False
    )
    op.create_index(
        op.f("ix_study_triage_reported_study_date"),
        "study_triage",
        ["reported", "study_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_study_triage_study_date"), "study_triage", ["study_date"], unique=False
    )
    op.create_table(
        "finding_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("finding_pk", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("given_by", sa.String(length=128), nullable=False),
        sa.Column("given_at", _when(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("value", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_pk"],
            ["findings.id"],
            name=op.f("fk_finding_feedback_finding_pk_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["reports.id"],
            name=op.f("fk_finding_feedback_report_pk_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_feedback")),
    )
    op.create_index(
        op.f("ix_finding_feedback_finding_pk"), "finding_feedback", ["finding_pk"], unique=False
    )
    op.create_index(
        op.f("ix_finding_feedback_report_pk_finding_pk"),
        "finding_feedback",
        ["report_pk", "finding_pk"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_finding_feedback_report_pk_finding_pk"), table_name="finding_feedback")
    op.drop_index(op.f("ix_finding_feedback_finding_pk"), table_name="finding_feedback")
    op.drop_table("finding_feedback")
    op.drop_index(op.f("ix_study_triage_reported_rank"), table_name="study_triage")
    op.drop_index(op.f("ix_study_triage_reported_study_date"), table_name="study_triage")
    op.drop_index(op.f("ix_study_triage_study_date"), table_name="study_triage")
    op.drop_index(op.f("ix_study_triage_reported_arrived_at"), table_name="study_triage")
    op.drop_index(op.f("ix_study_triage_rank"), table_name="study_triage")
    op.drop_index(op.f("ix_study_triage_arrived_at"), table_name="study_triage")
    op.drop_table("study_triage")
    op.drop_table("report_contents")
    op.drop_table("study_claims")
