"""False-positive reduction: gradient-boosted decision stumps on candidate features.

Model card
----------
- **What**: a sum of decision stumps (one threshold on one feature of
  :mod:`~vesalius.analyze.chest_ct.nodule_features` each), fitted by gradient boosting
  on the logistic loss, giving the probability that a candidate is a nodule and not a
  vessel, a vessel junction or a band of dense lung. A candidate is kept when its
  probability reaches the stored threshold.
- **Training data**: Vesalius chest CT phantoms only
  (:func:`vesalius.simulate.chest_ct.chest_ct`, seeds listed in the JSON, 1000 and up, none
  of them used by the tests), with their slice thickness (3 to 6.25 mm) and noise (0 to
  25 HU) varied; **not trained on patient data**. Positives are the candidates that
  overlap a phantom nodule most (a candidate over four times the nodule's volume, a
  nodule drawn over a large vessel, is left out); every other candidate is a negative.
  Seeds 1000-1179: 14908 candidates scored, 696 nodules.
- **Weights**: ``nodule_classifier.json`` next to this module, written by
  ``tools/train_nodule_classifier.py`` (400 stumps, learning rate 0.1, split points at
  feature quantiles). The threshold is the lowest at which out-of-fold probabilities
  (3-fold cross-validation by phantom) give at most 0.8 false positives per scan, a margin
  under the 1 per scan the issue allows; there the out-of-fold sensitivity is 95.6 % of
  the candidates that are nodules (both figures are in the JSON). Retrain after changing
  the candidates or features.
- **Limits**: the phantoms' nodules are ellipsoids in aerated lung; juxtapleural nodules,
  nodules merged with large vessels and real vessel trees are not represented, so on
  patient CT the false-positive rate is not known (on the real IBSI PAT1 crop, dense
  dependent lung gives a few false positives). Nodules touching a vessel score low.
  Lesions thicker than :data:`MASS_THICKNESS_MM` are kept by rule (no vessel inside the
  lung is that thick).

Examples
--------
>>> model = load_model()
>>> model.features == FEATURES
True
>>> 0.0 < model.threshold < 1.0
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.analyze.chest_ct.nodule_features import FEATURES

MODEL_FILE = "nodule_classifier.json"
MASS_THICKNESS_MM = 10.0
"""Candidates holding a ball of this radius (a lesion at least 20 mm thick) are kept."""


@dataclass(frozen=True)
class Stump:
    """One split: ``left`` is added to the score when ``x[feature] <= threshold``."""

    feature: int
    threshold: float
    left: float
    right: float


@dataclass(frozen=True)
class NoduleModel:
    """Gradient-boosted decision stumps on the candidate features (a logistic score)."""

    features: tuple[str, ...]
    base: float
    stumps: tuple[Stump, ...]
    threshold: float

    def score(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The log-odds of being a nodule, per row of ``x`` (columns ``features``)."""
        x = np.asarray(x, np.float64)
        out = np.full(len(x), self.base)
        for s in self.stumps:
            out += np.where(x[:, s.feature] <= s.threshold, s.left, s.right)
        return out

    def probability(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Probability of being a nodule for each row of ``x``."""
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(self.score(x), -50.0, 50.0))))

    def to_json(self) -> dict[str, Any]:
        """The fields of the model, JSON-ready."""
        return {
            "features": list(self.features),
            "base": self.base,
            "stumps": [[s.feature, s.threshold, s.left, s.right] for s in self.stumps],
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NoduleModel:
        """Inverse of :meth:`to_json`."""
        return cls(
            features=tuple(str(f) for f in data["features"]),
            base=float(data["base"]),
            stumps=tuple(
                Stump(int(f), float(t), float(left), float(right))
                for f, t, left, right in data["stumps"]
            ),
            threshold=float(data["threshold"]),
        )


def _best_stump(
    x: npt.NDArray[np.float64],
    grad: npt.NDArray[np.float64],
    hess: npt.NDArray[np.float64],
    cuts: list[npt.NDArray[np.float64]],
    l2: float,
) -> Stump:
    """The split with the largest second-order gain; leaf values are Newton steps."""
    best = (-np.inf, Stump(0, 0.0, 0.0, 0.0))
    g_all, h_all = float(grad.sum()), float(hess.sum())
    for j, thresholds in enumerate(cuts):
        left = x[:, j][:, None] <= thresholds[None, :]
        gl, hl = grad @ left, hess @ left
        gr, hr = g_all - gl, h_all - hl
        gain = gl**2 / (hl + l2) + gr**2 / (hr + l2)
        k = int(np.argmax(gain))
        if gain[k] > best[0]:
            leaf_l, leaf_r = -gl[k] / (hl[k] + l2), -gr[k] / (hr[k] + l2)
            best = (float(gain[k]), Stump(j, float(thresholds[k]), leaf_l, leaf_r))
    return best[1]


def fit_stumps(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.bool_],
    *,
    features: tuple[str, ...] = FEATURES,
    rounds: int = 400,
    rate: float = 0.1,
    bins: int = 32,
    l2: float = 5.0,
) -> NoduleModel:
    """Gradient boosting of stumps on the logistic loss; the threshold is left at 0.5.

    Split points are the ``bins`` quantiles of each feature.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([False, False, True, True])
    >>> m = fit_stumps(x, y, features=("x",), rounds=50, rate=0.5, l2=0.1)
    >>> m.probability(np.array([[0.0], [3.0]])).round(1).tolist()
    [0.0, 1.0]
    """
    t = np.asarray(y, np.float64)
    prior = float(np.clip(t.mean(), 1e-3, 1 - 1e-3))
    base = float(np.log(prior / (1 - prior)))
    cuts = [
        np.unique(np.quantile(x[:, j], np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        for j in range(x.shape[1])
    ]
    score = np.full(len(t), base)
    stumps = []
    for _ in range(rounds):
        p = 1.0 / (1.0 + np.exp(-score))
        stump = _best_stump(x, p - t, p * (1 - p), cuts, l2)
        stump = Stump(stump.feature, stump.threshold, rate * stump.left, rate * stump.right)
        stumps.append(stump)
        score += np.where(x[:, stump.feature] <= stump.threshold, stump.left, stump.right)
    return NoduleModel(features, base, tuple(stumps), 0.5)


def load_model() -> NoduleModel:
    """The trained model shipped with Vesalius (``nodule_classifier.json``)."""
    text = resources.files("vesalius.analyze.chest_ct").joinpath(MODEL_FILE).read_text("utf-8")
    model = NoduleModel.from_json(json.loads(text))
    if model.features != FEATURES:
        raise RuntimeError(
            f"{MODEL_FILE} was trained on features {model.features}, the code computes "
            f"{FEATURES}: run tools/train_nodule_classifier.py"
        )
    return model
