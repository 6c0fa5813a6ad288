"""Analysis apps the pipeline can run, by name.

An app is a plain function ``(volume, source) -> findings``: it gets the series as a
:class:`~vesalius.core.Volume` and the :class:`~vesalius.core.SeriesRef` its findings must
cite. :func:`default_apps` is the explicit registry of the apps Vesalius ships; callers may
pass their own mapping (tests pass fakes).

Examples
--------
>>> sorted(default_apps())
['chest-ct']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vesalius.core import SeriesRef, Volume
from vesalius.findings.model import Finding

App = Callable[[Volume, SeriesRef], tuple[Finding, ...]]
"""An analysis app: the series' volume and its reference in, findings out."""

Apps = Mapping[str, App]
"""Apps by the name routing rules use."""


def chest_ct_app(volume: Volume, source: SeriesRef) -> tuple[Finding, ...]:
    """Coronary calcium, lungs and emphysema (:func:`~vesalius.findings.run.analyze_ct`).

    An analysis that refuses the CT is skipped inside (logged); the others' findings stay.
    """
    from vesalius.findings.run import analyze_ct

    return analyze_ct(volume, source=source).findings


def default_apps() -> dict[str, App]:
    """The apps Vesalius ships, by name."""
    return {"chest-ct": chest_ct_app}
