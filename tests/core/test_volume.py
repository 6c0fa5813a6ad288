"""Volume and Grid: geometry a user relies on when mapping findings to the patient."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.core import Grid, ProvenanceStep, Volume


def _oblique_volume() -> Volume:
    theta = np.deg2rad(20.0)
    rot = np.array(
        [[np.cos(theta), -np.sin(theta), 0.0], [np.sin(theta), np.cos(theta), 0.0], [0.0, 0.0, 1.0]]
    )
    return Volume.from_spacing(
        np.arange(60, dtype=np.int16).reshape(3, 4, 5),
        spacing=(3.0, 0.7, 0.9),
        origin=(10.0, -20.0, 5.0),
        direction=rot,
        modality="CT",
    )


def test_index_and_lps_round_trip_on_an_oblique_grid() -> None:
    """A point mapped to the patient and back must land on the same voxel."""
    vol = _oblique_volume()
    idx = np.array([[0, 0, 0], [2, 3, 4], [1.5, 0.25, 3.75]])
    np.testing.assert_allclose(vol.lps_to_index(vol.index_to_lps(idx)), idx, atol=1e-9)


def test_spacing_and_direction_come_back_from_the_affine() -> None:
    vol = _oblique_volume()
    assert vol.spacing == pytest.approx((3.0, 0.7, 0.9))
    np.testing.assert_allclose(vol.direction.T @ vol.direction, np.eye(3), atol=1e-12)


def test_default_direction_is_axial_lps() -> None:
    """Slices go towards Superior, rows towards Posterior, columns towards Left."""
    vol = Volume.from_spacing(np.zeros((2, 2, 2)), spacing=(2.0, 1.0, 1.0))
    np.testing.assert_allclose(vol.direction, [[0, 0, 1], [0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize(
    ("array", "affine", "message"),
    [
        (np.zeros((2, 2)), np.eye(4), "3-D array"),
        (np.zeros((0, 2, 2)), np.eye(4), "empty"),
        (np.zeros((2, 2, 2)), np.eye(3), "4x4"),
        (np.zeros((2, 2, 2)), np.diag([1.0, 1.0, 0.0, 1.0]), "singular"),
        (np.zeros((2, 2, 2)), np.full((4, 4), np.nan), "non-finite"),
    ],
)
def test_invalid_volumes_are_refused_with_what_was_found(
    array: np.ndarray, affine: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Volume(array, affine)


def test_with_array_keeps_the_grid_and_records_the_step() -> None:
    vol = _oblique_volume()
    out = vol.with_array(vol.array * 2, ProvenanceStep("Double", {"factor": 2}))
    assert out.grid.same_as(vol.grid)
    assert [s.name for s in out.provenance] == ["Double"]
    assert vol.provenance == ()
    with pytest.raises(ValueError, match="keeps the grid"):
        vol.with_array(np.zeros((1, 1, 1)), ProvenanceStep("Bad"))


def test_affine_is_read_only_so_a_volume_cannot_drift() -> None:
    vol = _oblique_volume()
    with pytest.raises(ValueError, match="read-only"):
        vol.affine[0, 3] = 0.0


def test_provenance_params_are_frozen_and_serializable() -> None:
    grid = Grid((2, 3, 4), np.eye(4))
    step = ProvenanceStep("Resample", {"spacing": (1.0, 1.0, 1.0)}, grid_before=grid)
    with pytest.raises(TypeError):
        step.params["spacing"] = 2.0  # type: ignore[index]
    assert step.to_json()["grid_before"] == {"shape": [2, 3, 4], "affine": np.eye(4).tolist()}
