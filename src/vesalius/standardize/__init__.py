"""Standardize: recorded, invertible transforms that bring a Volume to a common form.

Geometric steps (:class:`Reorient`, :class:`Resample`, :class:`ResampleToGrid`,
:class:`CropOrPad`, :class:`RandomCrop`) record the grid they started from, so a result on
the standardized grid maps back with :func:`to_original_grid`. Intensity steps
(:class:`CTToHU`, :class:`ZScoreNormalize`, :class:`PercentileScale`, :class:`SUVbw`) keep
the grid. :func:`check_quality` flags obviously bad inputs.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> ct = Volume.from_spacing(np.zeros((4, 8, 8), np.int16), spacing=(3.0, 0.5, 0.5),
...                          modality="CT")
>>> out = Resample(1.0)(CTToHU()(Reorient("RAS")(ct)))
>>> [step.name for step in out.provenance]
['Reorient', 'CTToHU', 'Resample']
"""

from vesalius.standardize.base import GeometricTransform, IntensityTransform, Transform
from vesalius.standardize.crop import CropOrPad, RandomCrop
from vesalius.standardize.gridmap import Interpolation, map_to_grid
from vesalius.standardize.intensity import (
    CTToHU,
    PercentileScale,
    ZScoreNormalize,
    foreground_mask,
    otsu_threshold,
)
from vesalius.standardize.mapback import original_grid, to_original_grid
from vesalius.standardize.quality import QualityIssue, QualityLimits, check_quality
from vesalius.standardize.reorient import Reorient, orientation_code
from vesalius.standardize.resample import Resample, ResampleToGrid, spacing_grid
from vesalius.standardize.suv import SUVbw, SUVFactor, suv_factor

__all__ = [
    "CTToHU",
    "CropOrPad",
    "GeometricTransform",
    "IntensityTransform",
    "Interpolation",
    "PercentileScale",
    "QualityIssue",
    "QualityLimits",
    "RandomCrop",
    "Reorient",
    "Resample",
    "ResampleToGrid",
    "SUVFactor",
    "SUVbw",
    "Transform",
    "ZScoreNormalize",
    "check_quality",
    "foreground_mask",
    "map_to_grid",
    "orientation_code",
    "original_grid",
    "otsu_threshold",
    "spacing_grid",
    "suv_factor",
    "to_original_grid",
]
