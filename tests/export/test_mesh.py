"""Segment meshes for 3D printing and AR/VR: closed, the right size, the right side, readable.

What a user would see go wrong: a printed model with holes or the wrong size, a model of
the left lung that comes out on the right, files a slicer or headset refuses to open.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vesalius.errors import InputError
from vesalius.export.mesh import (
    CHUNK_BIN,
    CHUNK_JSON,
    GLB_MAGIC,
    STL_RECORD,
    Mesh,
    glb_bytes,
    meshes_from_labels,
    obj_text,
    stl_bytes,
    write_meshes,
)

RADIUS_MM = 9.0


def _sphere_labels(spacing: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """A ball of radius 9 mm (label 1) on an anisotropic grid, with an oblique affine."""
    shape = tuple(int(np.ceil(2 * RADIUS_MM / s)) + 6 for s in spacing)
    k, j, i = np.indices(shape).astype(float)
    centre = [(n - 1) / 2 for n in shape]
    mm = [(idx - c) * s for idx, c, s in zip((k, j, i), centre, spacing, strict=True)]
    labels = (sum(m**2 for m in mm) <= RADIUS_MM**2).astype(np.uint8)
    theta = np.deg2rad(20.0)
    rotation = np.array(
        [[np.cos(theta), -np.sin(theta), 0.0], [np.sin(theta), np.cos(theta), 0.0], [0, 0, 1]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag(spacing)[::-1].T  # columns: k, j, i axes
    affine[:3, 3] = (-40.0, 25.0, 100.0)
    return labels, affine


def _edges_each_shared_by_two_faces(faces: np.ndarray) -> bool:
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    directed = {tuple(e) for e in edges.tolist()}
    # closed and consistently wound: every directed edge appears once and its reverse too
    return len(directed) == len(edges) and all((b, a) in directed for a, b in directed)


@pytest.mark.parametrize("smooth", [0, 10])
def test_sphere_mesh_is_closed_and_has_the_sphere_volume(smooth: int) -> None:
    """A printed model would be the wrong size, or have holes a slicer refuses."""
    labels, affine = _sphere_labels((2.0, 0.8, 0.8))
    (ball,) = meshes_from_labels(labels, affine, names={1: "ball"}, smooth_iterations=smooth)
    assert _edges_each_shared_by_two_faces(ball.faces)
    truth = 4.0 / 3.0 * np.pi * RADIUS_MM**3
    assert ball.volume_mm3() == pytest.approx(truth, rel=0.05)
    centre = ball.vertices.mean(axis=0)
    expected = affine[:3, :3] @ [(n - 1) / 2 for n in labels.shape] + affine[:3, 3]
    np.testing.assert_allclose(centre, expected, atol=0.5)


def test_normals_point_outward_with_a_mirrored_affine() -> None:
    """A mesh turned inside out renders black and prints as a void."""
    labels, affine = _sphere_labels((1.5, 1.0, 1.0))
    affine[:3, 0] *= -1  # slices stacked the other way: determinant < 0
    (ball,) = meshes_from_labels(labels, affine)
    assert ball.volume_mm3() > 0
    outward = ball.vertices[ball.faces].mean(axis=1) - ball.vertices.mean(axis=0)
    assert np.mean(np.einsum("ij,ij->i", ball.face_normals(), outward) > 0) > 0.99


def test_blob_in_the_patients_left_is_at_positive_x() -> None:
    """A left-sided lesion shown on the right of an AR model could mislead surgery planning."""
    labels = np.zeros((10, 20, 20), np.uint8)
    labels[3:7, 8:12, 14:18] = 2  # high column index: x > 0 in LPS with this affine
    affine = np.eye(4)
    affine[:3, 3] = (-10.0, -10.0, 0.0)
    affine[:3, :3] = [[0, 0, 1.0], [0, 1.0, 0], [1.0, 0, 0]]  # i -> x (left), j -> y, k -> z
    (blob,) = meshes_from_labels(labels, affine)
    assert blob.vertices[:, 0].min() > 0
    ras = blob.in_frame("RAS")
    assert ras.vertices[:, 0].max() < 0
    assert ras.volume_mm3() == pytest.approx(blob.volume_mm3())
    doc, blob_gltf = _read_glb(glb_bytes([blob]))
    assert doc["accessors"][0]["min"][0] > 0  # glTF x is the patient's left too
    assert blob_gltf


def test_each_label_becomes_its_own_named_mesh() -> None:
    """Segments merged or unnamed would be unusable for planning."""
    labels = np.zeros((12, 12, 24), np.int16)
    labels[2:10, 2:10, 2:10] = 1
    labels[2:10, 2:10, 14:22] = 3
    meshes = meshes_from_labels(labels, np.eye(4), names={1: "left lung"})
    assert [(m.label, m.name) for m in meshes] == [(1, "left lung"), (3, "segment 3")]


def test_stl_reads_back_with_its_triangles_and_normals(tmp_path: Path) -> None:
    """A slicer reading garbage triangles would print nonsense."""
    labels, affine = _sphere_labels((1.0, 1.0, 1.0))
    meshes = meshes_from_labels(labels, affine, names={1: "ball one"})
    (path,) = write_meshes(meshes, tmp_path, fmt="stl")
    data = path.read_bytes()
    assert path.name == "segments-ball_one.stl"
    assert not data.startswith(b"solid")
    (count,) = struct.unpack("<I", data[80:84])
    assert count == len(meshes[0].faces)
    assert len(data) == 84 + 50 * count
    records = np.frombuffer(data[84:], dtype=STL_RECORD)
    np.testing.assert_allclose(records["vertices"], meshes[0].vertices[meshes[0].faces], atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(records["normal"], axis=1), 1.0, atol=1e-4)


def test_obj_reads_back_with_its_objects_and_vertex_counts(tmp_path: Path) -> None:
    """An OBJ with wrong face indices shows torn or shuffled surfaces."""
    labels = np.zeros((10, 10, 20), np.uint8)
    labels[2:8, 2:8, 2:8], labels[2:8, 2:8, 12:18] = 1, 2
    meshes = meshes_from_labels(labels, np.eye(4), names={1: "a", 2: "b"})
    (path,) = write_meshes(meshes, tmp_path, fmt="obj")
    lines = path.read_text().splitlines()
    assert [ln for ln in lines if ln.startswith("o ")] == ["o a", "o b"]
    vertices = [ln for ln in lines if ln.startswith("v ")]
    faces = np.array([[int(x) for x in ln.split()[1:]] for ln in lines if ln.startswith("f ")])
    assert len(vertices) == sum(len(m.vertices) for m in meshes)
    assert len(faces) == sum(len(m.faces) for m in meshes)
    assert faces.min() == 1
    assert faces.max() == len(vertices)
    assert obj_text(meshes) == path.read_text()


def _read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    magic, version, length = struct.unpack("<III", data[:12])
    assert (magic, version, length) == (GLB_MAGIC, 2, len(data))
    json_len, json_type = struct.unpack("<II", data[12:20])
    assert json_type == CHUNK_JSON
    assert json_len % 4 == 0
    doc = json.loads(data[20 : 20 + json_len])
    bin_len, bin_type = struct.unpack("<II", data[20 + json_len : 28 + json_len])
    assert bin_type == CHUNK_BIN
    assert bin_len % 4 == 0
    blob = data[28 + json_len : 28 + json_len + bin_len]
    assert 28 + json_len + bin_len == len(data)
    return doc, blob


def test_glb_is_valid_and_its_accessors_match_the_meshes(tmp_path: Path) -> None:
    """A headset refusing the file, or drawing the wrong triangles, defeats AR planning."""
    labels = np.zeros((10, 10, 20), np.uint8)
    labels[2:8, 2:8, 2:8], labels[2:8, 2:8, 12:18] = 1, 2
    meshes = meshes_from_labels(labels, np.diag([2.0, 1.0, 1.0, 1.0]), names={1: "a", 2: "b"})
    (path,) = write_meshes(meshes, tmp_path, fmt="glb")
    doc, blob = _read_glb(path.read_bytes())
    assert doc["asset"]["version"] == "2.0"
    assert doc["buffers"][0]["byteLength"] == len(blob)
    assert [m["name"] for m in doc["meshes"]] == ["a", "b"]
    assert [n["name"] for n in doc["nodes"]] == ["a", "b"]
    for k, mesh in enumerate(meshes):
        primitive = doc["meshes"][k]["primitives"][0]
        position = doc["accessors"][primitive["attributes"]["POSITION"]]
        index = doc["accessors"][primitive["indices"]]
        assert position["count"] == len(mesh.vertices)
        assert index["count"] == 3 * len(mesh.faces)
        view = doc["bufferViews"][position["bufferView"]]
        assert view["byteOffset"] % 4 == 0
        points = np.frombuffer(blob, "<f4", position["count"] * 3, view["byteOffset"])
        points = points.reshape(-1, 3)
        np.testing.assert_allclose(points.min(axis=0), position["min"], rtol=1e-6)
        np.testing.assert_allclose(points.max(axis=0), position["max"], rtol=1e-6)
        # metres, y up = superior: the mesh height in glTF y is the extent along LPS z
        extent_z_mm = np.ptp(mesh.vertices[:, 2])
        assert np.ptp(points[:, 1]) == pytest.approx(extent_z_mm / 1000.0, rel=1e-5)
        iview = doc["bufferViews"][index["bufferView"]]
        idx = np.frombuffer(blob, "<u4", index["count"], iview["byteOffset"])
        assert idx.max() == len(mesh.vertices) - 1


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    """An empty segmentation or a float image must not silently give empty files."""
    with pytest.raises(InputError, match="no segment"):
        meshes_from_labels(np.zeros((4, 4, 4), np.uint8), np.eye(4))
    with pytest.raises(InputError, match="integer"):
        meshes_from_labels(np.zeros((4, 4, 4), np.float32), np.eye(4))
    with pytest.raises(InputError, match="affine"):
        meshes_from_labels(np.ones((4, 4, 4), np.uint8), np.zeros((4, 4)))
    mesh = Mesh("x", 1, np.eye(3), np.array([[0, 1, 2]]))
    with pytest.raises(InputError, match="format"):
        write_meshes([mesh], tmp_path, fmt="ply")  # type: ignore[arg-type]
    assert stl_bytes(mesh)[:80].startswith(b"Vesalius x")
