"""What a report template is made of: sentences linked to findings, sections, the draft.

A :class:`Sentence` says where it came from: the finding (store row id) it states, and,
when an algorithm made that finding, that it is AI-generated and by which algorithm and
version. The plain text of a :class:`Draft` marks each AI sentence with
``[AI: name version]`` so that the mark survives copy and paste.

Examples
--------
>>> from vesalius.core import SeriesRef
>>> from vesalius.findings.model import CodedConcept, Finding
>>> f = StoredFinding(7, Finding(CodedConcept.text("Lung nodule"), "nodules", "0.2",
...                              SeriesRef("1.2", "1.2.3"), description="Nodule 6 mm"))
>>> s = Sentence.of("Solid nodule of 6 mm in the right upper lobe.", f)
>>> s.finding_id, s.ai, s.algorithm
(7, True, 'nodules 0.2')
>>> draft = Draft("chest-ct", "CT CHEST", (Section("Lungs", (s,)),), (), ())
>>> print(draft.text())
CT CHEST
<BLANKLINE>
FINDINGS:
Lungs: Solid nodule of 6 mm in the right upper lobe. [AI: nodules 0.2]
>>> Draft.from_json(draft.to_json()) == draft
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vesalius.findings import codes
from vesalius.findings.model import Finding


@dataclass(frozen=True)
class StoredFinding:
    """A finding and its row id in the store (what sentences and feedback link to)."""

    id: int
    finding: Finding


@dataclass(frozen=True)
class SeriesBrief:
    """What a template needs to know of a series."""

    series_uid: str
    modality: str | None
    description: str | None = None


@dataclass(frozen=True)
class Sentence:
    """One sentence of a report, linked to its finding and marked when AI-generated."""

    text: str
    finding_id: int | None = None
    ai: bool = False
    algorithm: str | None = None

    @classmethod
    def of(cls, text: str, stored: StoredFinding) -> Sentence:
        """A sentence stating ``stored``'s finding."""
        f = stored.finding
        algorithm = f"{f.algorithm_name} {f.algorithm_version}" if f.ai_generated else None
        return cls(text, stored.id, f.ai_generated, algorithm)

    def rendered(self) -> str:
        """The sentence with its AI mark."""
        return f"{self.text} [AI: {self.algorithm}]" if self.ai else self.text

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the API's sentence object)."""
        return {
            "text": self.text,
            "finding_id": self.finding_id,
            "ai": self.ai,
            "algorithm": self.algorithm,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sentence:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(data["text"]), data.get("finding_id"), bool(data.get("ai")), data.get("algorithm")
        )


@dataclass(frozen=True)
class Section:
    """A titled group of sentences of the findings part."""

    title: str
    sentences: tuple[Sentence, ...]


def _sentences_json(sentences: Sequence[Sentence]) -> list[dict[str, Any]]:
    return [s.to_json() for s in sentences]


def _sentences(data: Any) -> tuple[Sentence, ...]:
    return tuple(Sentence.from_json(s) for s in data)


@dataclass(frozen=True)
class Draft:
    """A structured draft report: findings sections, impression and recommendation."""

    template: str
    title: str
    sections: tuple[Section, ...]
    impression: tuple[Sentence, ...]
    recommendation: tuple[Sentence, ...]

    def sentences(self) -> tuple[Sentence, ...]:
        """Every sentence, in reading order."""
        body = tuple(s for section in self.sections for s in section.sentences)
        return body + self.impression + self.recommendation

    def text(self) -> str:
        """The report as plain text, AI sentences marked."""
        lines = [self.title, "", "FINDINGS:"]
        for section in self.sections:
            lines.append(f"{section.title}: " + " ".join(s.rendered() for s in section.sentences))
        for heading, part in (
            ("IMPRESSION:", self.impression),
            ("RECOMMENDATION:", self.recommendation),
        ):
            if part:
                lines += ["", heading, *(s.rendered() for s in part)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (kept in the store)."""
        return {
            "template": self.template,
            "title": self.title,
            "sections": [
                {"title": s.title, "sentences": _sentences_json(s.sentences)} for s in self.sections
            ],
            "impression": _sentences_json(self.impression),
            "recommendation": _sentences_json(self.recommendation),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Draft:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(data["template"]),
            str(data["title"]),
            tuple(Section(s["title"], _sentences(s["sentences"])) for s in data["sections"]),
            _sentences(data["impression"]),
            _sentences(data["recommendation"]),
        )


Render = Callable[[Sequence[StoredFinding]], Draft]


def finding_sentence(stored: StoredFinding) -> Sentence:
    """A finding stated plainly: its description, else its type and measurements."""
    f = stored.finding
    if f.description:
        text = f.description.rstrip(".") + "."
    else:
        values = ", ".join(f"{m.concept.meaning} {m.value:.1f} {m.unit}" for m in f.measurements)
        text = f.finding_type.meaning + (f": {values}" if values else "") + "."
    return Sentence.of(text, stored)


def section(title: str, sentences: Sequence[Sentence]) -> tuple[Section, ...]:
    """A one-section tuple, or nothing when there are no sentences."""
    return (Section(title, tuple(sentences)),) if sentences else ()


def is_limitation(stored: StoredFinding) -> bool:
    """Whether the finding states a technique limitation (not something seen)."""
    return stored.finding.finding_type == codes.TECHNIQUE_LIMITATION


def with_limitations(render: Render) -> Render:
    """``render`` given the findings only, its draft ending with a "Limitations" section of
    the technique limitations (every template ends so)."""

    def rendered(found: Sequence[StoredFinding]) -> Draft:
        draft = render([s for s in found if not is_limitation(s)])
        limits = section("Limitations", [finding_sentence(s) for s in found if is_limitation(s)])
        return replace(draft, sections=draft.sections + limits)

    return rendered
