"""The PDF report: a valid file that states the patient, the state, the values, the AI marks.

What a user would see go wrong: a PDF viewer refusing the file, a report of the wrong
patient, a draft that looks signed (no watermark) or a signed report that looks like a
draft, measurements or categories missing, AI findings not marked.

No PDF library is installed: the test reads the page content streams itself (ASCII85 and
Flate filters, as reportlab writes them) and collects the strings shown with ``Tj``.
"""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import pytest

from tests.export.fixtures_exports import PATIENT_ID, STUDY_UID, sample_content
from vesalius.export.content import StudyContent
from vesalius.export.pdf import PDF_FILE, WATERMARK, pdf_report, write_pdf

_STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", re.DOTALL)
_SHOWN = re.compile(rb"\((.*?)(?<!\\)\)\s*Tj")


def _decoded_streams(pdf: bytes) -> list[bytes]:
    out = []
    for header, body in _STREAM.findall(pdf):
        data = body.strip()
        if b"/ASCII85Decode" in header:
            # reportlab ends the data with "~>" but writes no "<~" before it
            data = base64.a85decode(data.removesuffix(b"~>"))
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        out.append(data)
    return out


def _unescape(raw: bytes) -> bytes:
    """A PDF literal string's bytes: ``\\(``, ``\\)``, ``\\\\`` and octal ``\\ddd`` escapes."""
    return re.sub(
        rb"\\([0-7]{1,3}|.)",
        lambda m: bytes([int(m.group(1), 8)]) if m.group(1).isdigit() else m.group(1),
        raw,
    )


def pdf_text(pdf: bytes) -> str:
    """The strings the pages show, one per line."""
    shown = []
    for stream in _decoded_streams(pdf):
        for raw in _SHOWN.findall(stream):
            shown.append(_unescape(raw).decode("latin-1"))
    return "\n".join(shown)


def _assert_valid_structure(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[startxref : startxref + 4] == b"xref"
    # every object the xref table lists starts where it says
    table = pdf[startxref:].split(b"trailer")[0]
    offsets = [int(m) for m in re.findall(rb"(\d{10}) \d{5} n", table)]
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())


def test_signed_report_is_a_valid_pdf_with_patient_state_and_values(tmp_path: Path) -> None:
    """The EHR's viewer must open it, and it must say whose it is and what was measured."""
    path = write_pdf(sample_content("final"), tmp_path)
    assert path.name == PDF_FILE
    pdf = path.read_bytes()
    _assert_valid_structure(pdf)
    text = pdf_text(pdf)
    assert PATIENT_ID in text
    assert "Doe Jane" in text
    assert STUDY_UID in text
    assert "FINAL" in text
    assert "signed by Dr. Grey" in text
    assert "Volume: 2512.5 mL" in text
    assert "Calcium score: 187.4" in text
    assert "Calcium score: 187.4 1" not in text  # a score has no unit to print
    assert "CAC-DRS A2/N2" in text
    assert "Lung-RADS 2" in text
    assert "AI (vesalius.chest-ct 0.3.1)" in text
    assert "Moderate coronary calcification." in text
    assert "Cardiology referral." in text
    assert text.count("Moderate coronary calcification.") == 1  # once, under Impression
    assert "Left lung 2512.5 mL. [AI: vesalius.chest-ct 0.3.1]" in text
    assert WATERMARK not in text


@pytest.mark.parametrize("state", ["draft", "preliminary", None])
def test_unsigned_reports_carry_the_draft_watermark(state: str | None) -> None:
    """An unsigned report that looks signed could be acted on as a diagnosis."""
    text = pdf_text(pdf_report(sample_content(state)))
    assert WATERMARK in text
    assert "signed by" not in text


def test_amended_report_is_signed_and_shows_its_version() -> None:
    """An amendment must read as signed, and as the newer version."""
    text = pdf_text(pdf_report(sample_content("amended")))
    assert WATERMARK not in text
    assert "AMENDED (version 2)" in text


def test_same_content_gives_the_same_bytes() -> None:
    """A reproducible PDF can be checked against what was sent before."""
    assert pdf_report(sample_content()) == pdf_report(sample_content())


def test_long_reports_and_odd_characters_do_not_break_the_pdf() -> None:
    """Names with accents or markup characters, and many findings, must still render."""
    base = sample_content("final")
    content = StudyContent(
        **{
            **base.__dict__,
            "patient_name": "Müller^Zoë <b>",
            "findings": base.findings * 30,
        }
    )
    pdf = pdf_report(content)
    _assert_valid_structure(pdf)
    text = pdf_text(pdf)
    assert "Müller Zoë <b>" in text
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2
