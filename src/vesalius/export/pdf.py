"""The PDF report (reportlab): what a referring physician reads, printed or in the EHR.

Page layout, A4: a header with the patient (name, ID, birth date, sex) and the study
(date, accession number, description, Study Instance UID); the report state and, when
signed, who signed and when; the report text; a table of the findings with their
measurements and categories, each AI finding marked ``AI`` with its algorithm and version;
the impression and the recommendation. Every page of a report that is not signed (no
report, draft or preliminary) carries the diagonal watermark ``DRAFT - not signed``. The
output is reproducible: the same content gives the same bytes.

Examples
--------
>>> from vesalius.export.content import StudyContent
>>> content = StudyContent("1.2.3", "P1", "Doe^Jane", None, None, None, None, None, (), (),
...                        None)
>>> data = pdf_report(content)
>>> data[:5], data.rstrip().endswith(b"%%EOF")
(b'%PDF-', True)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from vesalius.export.content import StudyContent
from vesalius.findings.model import Finding, Measurement
from vesalius.io.atomic import write_bytes_atomic

WATERMARK = "DRAFT - not signed"
PDF_FILE = "report.pdf"
AI_MARK = "AI"

_STYLES = getSampleStyleSheet()
_BODY = _STYLES["BodyText"]
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10)
_H1, _H2 = _STYLES["Heading1"], _STYLES["Heading2"]


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _person(name: str | None) -> str:
    return (name or "").replace("^", " ").strip() or "(no name)"


def _state_line(content: StudyContent) -> str:
    report = content.report
    if report is None:
        return "Report: none yet (AI-generated findings only, not reviewed)"
    line = f"Report state: {report.state.upper()} (version {report.version})"
    if report.signed and report.signed_by:
        when = report.signed_at.strftime("%Y-%m-%d %H:%M UTC") if report.signed_at else ""
        line += f" - signed by {report.signed_by}" + (f" on {when}" if when else "")
    return line


def _header(content: StudyContent) -> list[Any]:
    rows = [
        ["Patient", _person(content.patient_name), "Patient ID", content.patient_id],
        [
            "Birth date",
            str(content.patient_birth_date or "-"),
            "Sex",
            content.patient_sex or "-",
        ],
        [
            "Study date",
            str(content.study_date or "-"),
            "Accession",
            content.accession_number or "-",
        ],
        ["Study", content.description or "-", "Modalities", ", ".join(content.modalities) or "-"],
    ]
    table = Table(rows, colWidths=[25 * mm, 65 * mm, 25 * mm, 55 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
            ]
        )
    )
    return [
        _p("Radiology report", _H1),
        table,
        _p(f"Study Instance UID: {content.study_uid}", _SMALL),
        Spacer(1, 3 * mm),
        _p(_state_line(content)),
    ]


_UNIT_WORDS = {"1": "", "[hnsf'U]": "HU"}
"""How UCUM units are printed: a unitless score shows no unit, Hounsfield units as HU."""


def _number(value: float) -> str:
    """Two decimals at most, no exponent for large volumes, trailing zeros dropped."""
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _value(m: Measurement) -> str:
    unit = _UNIT_WORDS.get(m.unit, m.unit)
    return f"{m.concept.meaning}: {_number(m.value)}" + (f" {unit}" if unit else "")


def _finding_row(finding: Finding) -> list[Any]:
    what = finding.finding_type.meaning
    if finding.location is not None and finding.location.laterality:
        what += f" ({finding.location.laterality})"
    values = "\n".join(_value(m) for m in finding.measurements)
    grades = "\n".join(f"{c.system} {c.value}" for c in finding.categories)
    source = f"{finding.algorithm_name} {finding.algorithm_version}"
    mark = f"{AI_MARK} ({source})" if finding.ai_generated else source
    return [
        _p(what, _SMALL),
        _p(values or "-", _SMALL),
        _p(grades or "-", _SMALL),
        _p(mark, _SMALL),
    ]


def _findings_table(findings: Sequence[Finding]) -> list[Any]:
    if not findings:
        return [_p("Findings", _H2), _p("No findings.")]
    head = [_p(h, _SMALL) for h in ("Finding", "Measurements", "Categories", "Source")]
    table = Table(
        [head, *(_finding_row(f) for f in findings)],
        colWidths=[45 * mm, 55 * mm, 30 * mm, 40 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    note = "AI: produced by the named algorithm; confirm against the images."
    return [_p("Findings", _H2), table, _p(note, _SMALL)]


def _sections(content: StudyContent) -> list[Any]:
    report = content.report
    if report is None:
        return []
    flow: list[Any] = [_p("Report", _H2), _p(report.body or "(empty)")]
    for title, text in (
        ("Impression", report.impression),
        ("Recommendation", report.recommendation),
    ):
        if text:
            flow += [_p(title, _H2), _p(text)]
    return flow


def _watermark(canvas: Canvas, _doc: Any) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica-Bold", 54)
    canvas.setFillColor(colors.Color(0.85, 0.2, 0.2, alpha=0.25))
    canvas.translate(A4[0] / 2, A4[1] / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, 0, WATERMARK)
    canvas.restoreState()


def _footer(canvas: Canvas, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawString(20 * mm, 10 * mm, f"Vesalius - page {doc.page}")
    canvas.restoreState()


def pdf_report(content: StudyContent) -> bytes:
    """The PDF report of ``content`` (watermarked unless the report is signed)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Radiology report {content.study_uid}",
        author="Vesalius",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        invariant=1,
    )
    flow = _header(content) + _sections(content) + _findings_table(content.findings)
    signed = content.report is not None and content.report.signed

    def decorate(canvas: Canvas, document: Any) -> None:
        _footer(canvas, document)
        if not signed:
            _watermark(canvas, document)

    doc.build(flow, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def write_pdf(content: StudyContent, folder: Path) -> Path:
    """Write the PDF report to ``folder/report.pdf`` (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(folder / PDF_FILE, pdf_report(content))
