"""References from an image back to the DICOM objects it came from.

Examples
--------
>>> ref = SeriesRef(study_uid="1.2.3", series_uid="1.2.3.4", sop_instance_uids=("1.2.3.4.1",))
>>> ref.n_instances
1
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SeriesRef:
    """The study, series and instances (in slice order) an image was read from."""

    study_uid: str
    series_uid: str
    sop_instance_uids: tuple[str, ...] = field(default=())
    sop_class_uid: str = ""

    @property
    def n_instances(self) -> int:
        """Number of referenced instances."""
        return len(self.sop_instance_uids)
