"""A coarse coronary territory from where a lesion sits around the heart.

The angle of the lesion around the heart's centroid in the axial plane (LPS: x to the
patient's left, y posterior), ``atan2(dy, dx)`` in degrees, is read against the usual
course of the arteries on an axial non-contrast CT:

- LAD, anterior interventricular groove: anterior and slightly left, -110 to -40 degrees;
- LCX, left atrioventricular groove: left lateral and posterior, -40 to 120 degrees;
- RCA, right atrioventricular groove: right anterior to right posterior, the rest.

This is an approximation: it assumes the heart's usual position and axis, and it does not
tell the left main (a short trunk near the aortic root) from the LAD or LCX. A territory
read this way should be shown as such, not as a vessel-tracked label.

Examples
--------
>>> territory((20.0, -60.0, 0.0), (0.0, 0.0, 0.0))
'LAD'
>>> territory((50.0, 5.0, 0.0), (0.0, 0.0, 0.0)), territory((-40.0, -20.0, 0.0), (0.0, 0.0, 0.0))
('LCX', 'RCA')
"""

from __future__ import annotations

import math

TERRITORIES = ("LAD", "LCX", "RCA")
LAD_DEG, LCX_DEG = (-110.0, -40.0), (-40.0, 120.0)


def territory(lesion_lps: tuple[float, float, float], heart_lps: tuple[float, float, float]) -> str:
    """The territory (``"LAD"``, ``"LCX"`` or ``"RCA"``) of a lesion centre, see above."""
    angle = math.degrees(math.atan2(lesion_lps[1] - heart_lps[1], lesion_lps[0] - heart_lps[0]))
    if LAD_DEG[0] <= angle < LAD_DEG[1]:
        return "LAD"
    if LCX_DEG[0] <= angle < LCX_DEG[1]:
        return "LCX"
    return "RCA"
