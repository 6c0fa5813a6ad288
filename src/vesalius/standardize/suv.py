"""PET standardized uptake value, body weight (SUVbw), from the DICOM PET headers.

``SUVbw = activity (Bq/ml) * weight (g) / decayed dose (Bq)``, where the injected dose
``RadionuclideTotalDose`` is decayed with ``RadionuclideHalfLife`` from the injection time to
the time the image is decay-corrected to (``DecayCorrection``):

- ``START``: the series start, ``SeriesDate`` + ``SeriesTime``. Known caveat (Siemens, GE,
  noted in the QIBA vendor-neutral SUV pseudo-code): a re-processed series can get a
  ``SeriesTime`` later than the acquisition start. Then GE's private Scan DateTime
  (0009,xx0D of ``GEMS_PETD_01``) is used when present, else the earliest acquisition time
  of the series.
- ``ADMIN``: already corrected to the administration time, so the dose is not decayed.
- ``NONE`` and anything else are refused.

The injection time is ``RadiopharmaceuticalStartDateTime``, else
``RadiopharmaceuticalStartTime`` on the series date (the day before when that time of day is
after the series start: the scan crossed midnight), else GE's private Administered DateTime
(0009,xx3B). Units ``BQML`` are used as they are; ``CNTS`` need Philips' private Activity
Concentration Scale Factor (7053,xx09) to reach Bq/ml, or Philips' SUV Scale Factor
(7053,xx00), which already is the SUVbw factor. Anything missing raises
:class:`~vesalius.errors.UnsupportedError` naming it.

Examples
--------
>>> from pydicom.dataset import Dataset
>>> ds = Dataset()
>>> ds.Modality, ds.Units, ds.DecayCorrection, ds.PatientWeight = "PT", "BQML", "START", 70
>>> ds.SeriesDate, ds.SeriesTime = "20240301", "100000"
>>> item = Dataset()
>>> item.RadionuclideTotalDose, item.RadionuclideHalfLife = 370e6, 6586.2
>>> item.RadiopharmaceuticalStartTime = "090000"
>>> ds.RadiopharmaceuticalInformationSequence = [item]
>>> suv = suv_factor(ds)
>>> suv.elapsed_s, round(suv.factor * 1e4, 4)
(3600.0, 2.7634)
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from vesalius.core import Volume
from vesalius.errors import UnsupportedError
from vesalius.standardize.base import IntensityTransform, describe
from vesalius.standardize.suvtimes import (
    GE_PETD,
    PHILIPS_PET,
    combine,
    header_datetime,
    parse_dt,
    positive_float,
    private_float,
    private_value,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class SUVFactor:
    """How stored PET values (after rescale) become SUVbw, and what went into it.

    ``factor`` multiplies the voxel values. ``activity_scale`` takes them to Bq/ml (1 for
    ``BQML``). Times are naive local datetimes; ``*_source`` name the attribute used.
    """

    factor: float
    units: str
    method: str
    activity_scale: float
    weight_kg: float
    injected_dose_bq: float
    decayed_dose_bq: float
    half_life_s: float
    elapsed_s: float
    decay_correction: str
    injection_time: datetime
    injection_time_source: str
    reference_time: datetime
    reference_time_source: str


class _Missing:
    """Collects what a header lacks, to refuse once, naming all of it."""

    def __init__(self, where: str | None) -> None:
        self.where = where
        self.items: list[str] = []

    def need(self, value: T | None, name: str) -> T:
        """``value``, noting ``name`` as missing when it is ``None`` (:meth:`check` raises)."""
        if value is None:
            self.items.append(name)
        return cast(T, value)

    def check(self) -> None:
        if self.items:
            raise UnsupportedError(
                self.where, "cannot compute SUVbw, missing or invalid: " + ", ".join(self.items)
            )


def _where(header: Dataset, source: str | os.PathLike[str] | None) -> str | None:
    if source is not None:
        return str(source)
    filename = getattr(header, "filename", None)
    if isinstance(filename, str) and filename:
        return filename
    uid = header.get("SeriesInstanceUID")
    return f"series {uid}" if uid else None


def _radiopharmaceutical(header: Dataset) -> Dataset:
    seq = header.get("RadiopharmaceuticalInformationSequence")
    return seq[0] if seq else Dataset()


def _injection_time(
    header: Dataset, item: Dataset, series: datetime | None
) -> tuple[datetime, str] | None:
    whole = parse_dt(item.get("RadiopharmaceuticalStartDateTime", ""))
    if whole is not None:
        return whole, "RadiopharmaceuticalStartDateTime"
    day = header.get("SeriesDate", "") or header.get("AcquisitionDate", "")
    start = combine(day, item.get("RadiopharmaceuticalStartTime", ""))
    if start is not None:
        if series is not None and start > series:
            logger.info(
                "injection time of day is after the series start: injected the day "
                "before (the study crossed midnight)"
            )
            start -= timedelta(days=1)
        return start, "RadiopharmaceuticalStartTime + SeriesDate"
    ge = parse_dt(private_value(header, 0x0009, 0x3B, GE_PETD) or "")
    if ge is not None:
        return ge, "GE private Administered DateTime (0009,xx3B)"
    return None


def _start_reference(
    header: Dataset, series: datetime | None, acquisitions: list[datetime]
) -> tuple[datetime, str] | None:
    earliest = min(acquisitions) if acquisitions else None
    if series is not None and (earliest is None or series <= earliest):
        return series, "SeriesDate + SeriesTime"
    ge = parse_dt(private_value(header, 0x0009, 0x0D, GE_PETD) or "")
    if ge is not None:
        return ge, "GE private Scan DateTime (0009,xx0D)"
    if earliest is not None:
        if series is not None:
            logger.warning(
                "SeriesTime %s is after the acquisition start %s (re-processed "
                "series?): using the earliest acquisition time",
                series,
                earliest,
            )
        return earliest, "earliest AcquisitionDateTime"
    return None


def _activity_scale(header: Dataset, units: str, missing: _Missing) -> tuple[float, str, float]:
    """``(Bq/ml per stored unit, method, Philips SUV factor or nan)``."""
    if units == "BQML":
        return 1.0, "BQML", math.nan
    if units != "CNTS":
        raise UnsupportedError(
            missing.where,
            f"cannot compute SUVbw from PET Units {units!r}: "
            "only BQML, and CNTS with Philips scale factors, are supported",
        )
    concentration = private_float(header, 0x7053, 0x09, PHILIPS_PET)
    suv_scale = private_float(header, 0x7053, 0x00, PHILIPS_PET)
    if concentration is not None and concentration > 0:
        return concentration, "CNTS x Philips Activity Concentration Scale Factor", math.nan
    if suv_scale is not None and suv_scale > 0:
        return math.nan, "CNTS x Philips SUV Scale Factor", suv_scale
    raise UnsupportedError(
        missing.where,
        "PET Units are CNTS but neither Philips private "
        "Activity Concentration Scale Factor (7053,1009) nor SUV Scale "
        "Factor (7053,1000) is present to convert counts",
    )


@dataclass(frozen=True)
class _Inputs:
    """What the SUVbw formula takes, as read from the header."""

    units: str
    correction: str
    weight_kg: float
    dose_bq: float
    half_life_s: float
    injection: tuple[datetime, str]
    reference: tuple[datetime, str]


def _check_corrected(header: Dataset, where: str | None) -> None:
    corrected = header.get("CorrectedImage")
    if corrected is None:
        return
    values = [corrected] if isinstance(corrected, str) else list(corrected)
    if "DECY" not in [str(v).upper() for v in values]:
        raise UnsupportedError(
            where,
            f"CorrectedImage (0028,0051) {values} lacks DECY: the image is not decay corrected",
        )


def _read_inputs(header: Dataset, acquisitions: list[datetime], missing: _Missing) -> _Inputs:
    units = str(header.get("Units", "")).upper()
    correction = str(header.get("DecayCorrection", "")).upper()
    missing.need(units or None, "Units (0054,1001)")
    missing.need(correction or None, "DecayCorrection (0054,1102)")
    item = _radiopharmaceutical(header)
    weight = missing.need(positive_float(header.get("PatientWeight")), "PatientWeight (0010,1030)")
    dose = missing.need(
        positive_float(item.get("RadionuclideTotalDose")), "RadionuclideTotalDose (0018,1074)"
    )
    half_life = missing.need(
        positive_float(item.get("RadionuclideHalfLife"))
        or private_float(header, 0x0009, 0x3F, GE_PETD),
        "RadionuclideHalfLife (0018,1075)",
    )
    series = combine(header.get("SeriesDate", ""), header.get("SeriesTime", ""))
    injection = missing.need(
        _injection_time(header, item, series),
        "RadiopharmaceuticalStartDateTime (0018,1078) or RadiopharmaceuticalStartTime (0018,1072)",
    )
    reference: tuple[datetime, str] = (datetime.min, "")
    if correction == "ADMIN" and injection is not None:
        reference = (injection[0], "administration time (DecayCorrection ADMIN)")
    elif correction != "ADMIN":
        reference = missing.need(
            _start_reference(header, series, acquisitions),
            "SeriesDate + SeriesTime (0008,0021 + 0008,0031) or an acquisition time",
        )
    missing.check()
    return _Inputs(units, correction, weight, dose, half_life, injection, reference)


def suv_factor(
    header: Dataset,
    *,
    acquisition_times: list[datetime] | None = None,
    source: str | os.PathLike[str] | None = None,
) -> SUVFactor:
    """The SUVbw factor of a PET series from one header (no pixels needed).

    Parameters
    ----------
    header
        A PET image header of the series (e.g. read with ``stop_before_pixels=True``).
    acquisition_times
        The acquisition datetimes of all the series' images, when known; the earliest is
        used if ``SeriesTime`` is later than it. Default: this header's own.
    source
        The file or series named in errors; default: the header's file name or series UID.

    Raises
    ------
    UnsupportedError
        Naming what is missing or not supported (units, decay correction, times...).
    """
    missing = _Missing(_where(header, source))
    acquisitions = list(acquisition_times or [])
    own = header_datetime(header, "Acquisition")
    if not acquisitions and own is not None:
        acquisitions = [own]
    inputs = _read_inputs(header, acquisitions, missing)
    if inputs.correction not in ("START", "ADMIN"):
        raise UnsupportedError(
            missing.where,
            f"DecayCorrection {inputs.correction!r} is not supported: only START and ADMIN",
        )
    _check_corrected(header, missing.where)
    scale, method, philips_suv = _activity_scale(header, inputs.units, missing)
    return _compute(inputs, scale, method, philips_suv, missing.where)


def _compute(
    inputs: _Inputs, scale: float, method: str, philips_suv: float, where: str | None
) -> SUVFactor:
    injected_at, ref_at = inputs.injection[0], inputs.reference[0]
    elapsed = (ref_at - injected_at).total_seconds()
    if elapsed < 0:
        raise UnsupportedError(
            where, f"the injection ({injected_at}) is after the decay-correction time ({ref_at})"
        )
    decayed = inputs.dose_bq * math.exp(-math.log(2.0) * elapsed / inputs.half_life_s)
    weight_g = inputs.weight_kg * 1000.0
    if math.isnan(scale):  # Philips SUV Scale Factor: recover the Bq/ml scale from it
        factor, scale = philips_suv, philips_suv * decayed / weight_g
    else:
        factor = scale * weight_g / decayed
    logger.debug("SUVbw factor %.6g (%s, %.0f s after injection)", factor, method, elapsed)
    return SUVFactor(
        factor=factor,
        units=inputs.units,
        method=method,
        activity_scale=scale,
        weight_kg=inputs.weight_kg,
        injected_dose_bq=inputs.dose_bq,
        decayed_dose_bq=decayed,
        half_life_s=inputs.half_life_s,
        elapsed_s=elapsed,
        decay_correction=inputs.correction,
        injection_time=injected_at,
        injection_time_source=inputs.injection[1],
        reference_time=ref_at,
        reference_time_source=inputs.reference[1],
    )


@dataclass(frozen=True)
class SUVbw(IntensityTransform):
    """Multiply a PET Volume by its SUVbw factor, giving float32 SUV values.

    Examples
    --------
    >>> from vesalius.core import Volume
    >>> ds = Dataset()
    >>> ds.Units, ds.DecayCorrection, ds.PatientWeight = "BQML", "ADMIN", 70
    >>> item = Dataset()
    >>> item.RadionuclideTotalDose, item.RadionuclideHalfLife = 350e6, 6586.2
    >>> item.RadiopharmaceuticalStartDateTime = "20240301090000"
    >>> ds.RadiopharmaceuticalInformationSequence = [item]
    >>> suv = suv_factor(ds)
    >>> pet = Volume.from_spacing(np.full((1, 1, 2), 5000.0), modality="PT")
    >>> out = SUVbw(suv)(pet)
    >>> round(float(out.array[0, 0, 0]), 3), out.provenance[-1].params["factor"] == suv.factor
    (1.0, True)
    """

    suv: SUVFactor

    @classmethod
    def from_header(cls, header: Dataset, **kwargs: Any) -> SUVbw:
        """Build from a PET header; keyword arguments go to :func:`suv_factor`."""
        return cls(suv_factor(header, **kwargs))

    def params(self) -> dict[str, object]:
        """The factor and what it came from (times in ISO format)."""
        out: dict[str, object] = {}
        for key, value in vars(self.suv).items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out

    def apply_array(self, volume: Volume) -> npt.NDArray[Any]:
        """``volume.array * factor`` as float32; refuses a non-PET volume."""
        if volume.modality != "PT":
            raise UnsupportedError(
                describe(volume),
                f"SUVbw needs a PET (PT) volume, found modality {volume.modality!r}",
            )
        out = volume.array.astype(np.float32)
        out *= np.float32(self.suv.factor)
        return out
