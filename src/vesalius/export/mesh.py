"""Surface meshes of segments, for 3D printing and AR/VR planning: STL, OBJ and glTF.

:func:`meshes_from_labels` runs marching cubes (``skimage.measure.marching_cubes``) on each
label of a label map, padded by one empty voxel so that every surface is closed, and maps
the vertices through the label map's affine (``(k, j, i, 1)`` to patient coordinates, the
convention of :mod:`vesalius.core.volume`). Faces are wound counter-clockwise seen from
outside, so normals point out of the segment.

Coordinate frames and units:

- STL and OBJ are written in millimetres in the frame asked for: ``"LPS"`` (DICOM patient
  coordinates, the default: x towards the patient's left, y posterior, z superior) or
  ``"RAS"`` (x right, y anterior, z superior: the frame of 3D Slicer and most NIfTI
  tools). The two differ by a half-turn about z, so no face is mirrored.
- glTF 2.0 has fixed conventions (metres, +Y up, +Z the front of the asset, right-handed),
  so a ``.glb`` is always written in metres with x = patient left, y = superior,
  z = anterior: the model stands upright and faces the viewer in an AR/VR headset.

Optional Taubin smoothing (``smooth_iterations``) removes the voxel staircase without
shrinking the surface much; ``step`` > 1 samples the grid more coarsely (marching cubes'
``step_size``), a simple decimation giving fewer, larger triangles.

Examples
--------
>>> import numpy as np
>>> labels = np.zeros((12, 12, 12), np.uint8)
>>> labels[3:9, 3:9, 3:9] = 1
>>> (cube,) = meshes_from_labels(labels, np.diag([2.0, 1.0, 1.0, 1.0]), names={1: "cube"})
>>> cube.name, round(cube.volume_mm3())  # 6 x 6 x 6 voxels of 2 mm3, corners cut
('cube', 415)
>>> stl_bytes(cube)[80:84] == np.uint32(len(cube.faces)).tobytes()
True
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from skimage.measure import marching_cubes

from vesalius.errors import InputError
from vesalius.io.atomic import write_bytes_atomic

log = logging.getLogger(__name__)

Frame = Literal["LPS", "RAS"]
MeshFormat = Literal["stl", "obj", "glb"]
FORMATS: tuple[MeshFormat, ...] = ("stl", "obj", "glb")
FRAMES: tuple[Frame, ...] = ("LPS", "RAS")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
_LPS_TO_GLTF = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]) / 1000.0
"""LPS millimetres to glTF metres: x = left, y = superior, z = anterior."""

_PALETTE = (
    (0.86, 0.35, 0.30),
    (0.30, 0.55, 0.85),
    (0.40, 0.75, 0.40),
    (0.90, 0.75, 0.30),
    (0.65, 0.45, 0.80),
    (0.35, 0.80, 0.80),
)


@dataclass(frozen=True, eq=False)
class Mesh:
    """A closed triangle surface of one segment.

    Attributes
    ----------
    name
        The segment's name (used as the object, mesh or solid name in the files).
    label
        Its value in the label map.
    vertices
        ``(n, 3)`` float coordinates in millimetres, in ``frame``.
    faces
        ``(m, 3)`` vertex indices, counter-clockwise seen from outside.
    frame
        ``"LPS"`` or ``"RAS"``.
    """

    name: str
    label: int
    vertices: FloatArray
    faces: IntArray
    frame: Frame = "LPS"

    def face_normals(self) -> FloatArray:
        """Unit outward normal of each face."""
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        normals = np.cross(b - a, c - a)
        lengths = np.linalg.norm(normals, axis=1, keepdims=True)
        return np.asarray(normals / np.where(lengths > 0, lengths, 1.0), dtype=np.float64)

    def volume_mm3(self) -> float:
        """The enclosed volume (divergence theorem), in cubic millimetres."""
        return _signed_volume(self.vertices, self.faces)

    def area_mm2(self) -> float:
        """The surface area in square millimetres."""
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        return float(np.linalg.norm(np.cross(b - a, c - a), axis=1).sum() / 2.0)

    def in_frame(self, frame: Frame) -> Mesh:
        """The same surface in ``frame`` (LPS and RAS differ by a half-turn about z)."""
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, found {frame!r}")
        if frame == self.frame:
            return self
        return Mesh(self.name, self.label, self.vertices @ _LPS_TO_RAS.T, self.faces, frame)


def _signed_volume(vertices: FloatArray, faces: IntArray) -> float:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def _taubin(
    vertices: FloatArray, faces: IntArray, iterations: int, lam: float = 0.5, mu: float = -0.53
) -> FloatArray:
    """Taubin (lambda/mu) smoothing: Laplacian steps that shrink, then inflate, alternately."""
    n = len(vertices)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    rows, cols = (
        np.concatenate([edges[:, 0], edges[:, 1]]),
        np.concatenate([edges[:, 1], edges[:, 0]]),
    )
    adjacency = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adjacency.data[:] = 1.0  # duplicate edges count once
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    average = sparse.diags(1.0 / np.where(degree > 0, degree, 1.0)) @ adjacency
    out = vertices.copy()
    for _ in range(iterations):
        for factor in (lam, mu):
            out = out + factor * (average @ out - out)
    return out


def _surface(
    mask: npt.NDArray[np.bool_], affine: FloatArray, *, step: int, smooth_iterations: int
) -> tuple[FloatArray, IntArray]:
    padded = np.pad(mask, 1).astype(np.float32)
    verts, faces, _, _ = marching_cubes(  # type: ignore[no-untyped-call]
        padded, level=0.5, step_size=step, allow_degenerate=False
    )
    index = verts.astype(np.float64) - 1.0  # undo the padding
    lps = index @ affine[:3, :3].T + affine[:3, 3]
    tris = faces.astype(np.int64)
    if smooth_iterations > 0:
        lps = _taubin(lps, tris, smooth_iterations)
    if _signed_volume(lps, tris) < 0:
        tris = tris[:, ::-1].copy()
    return lps, tris


def meshes_from_labels(
    labels: npt.ArrayLike,
    affine: npt.ArrayLike,
    *,
    names: Mapping[int, str] | None = None,
    frame: Frame = "LPS",
    step: int = 1,
    smooth_iterations: int = 0,
) -> list[Mesh]:
    """One closed surface per non-zero label of ``labels``, in patient millimetres.

    Parameters
    ----------
    labels
        A 3-D integer label map indexed ``[k, j, i]``; 0 is background.
    affine
        Its 4x4 index-to-LPS affine.
    names
        Segment names by label; ``"segment <label>"`` for labels not named.
    frame
        ``"LPS"`` (default) or ``"RAS"``.
    step
        Marching cubes step in voxels (1: full resolution; larger: fewer triangles).
    smooth_iterations
        Taubin smoothing passes (0: none).

    Raises
    ------
    InputError
        The label map is not 3-D integers, the affine not a valid 4x4 matrix, or no label
        is present.
    """
    array = np.asarray(labels)
    matrix = np.asarray(affine, dtype=np.float64)
    if array.ndim != 3 or array.dtype.kind not in "biu":
        raise InputError(None, f"a label map must be a 3-D integer array, found {array.dtype}")
    if matrix.shape != (4, 4) or abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise InputError(None, "the label map's affine must be an invertible 4x4 matrix")
    if frame not in FRAMES:
        raise InputError(None, f"frame must be one of {FRAMES}, found {frame!r}")
    if step < 1 or smooth_iterations < 0:
        raise InputError(None, "step must be >= 1 and smooth_iterations >= 0")
    present = [int(v) for v in np.unique(array) if v != 0]
    if not present:
        raise InputError(None, "the label map has no segment (every voxel is 0)")
    meshes = []
    for label in present:
        vertices, faces = _surface(
            array == label, matrix, step=step, smooth_iterations=smooth_iterations
        )
        name = (names or {}).get(label, f"segment {label}")
        meshes.append(Mesh(name, label, vertices, faces).in_frame(frame))
        log.debug("segment %s: %d vertices, %d faces", name, len(vertices), len(faces))
    return meshes


# -- STL -------------------------------------------------------------------------------

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attributes", "<u2")])
"""One triangle of a binary STL file (50 bytes)."""


def stl_bytes(mesh: Mesh) -> bytes:
    """A binary STL of ``mesh`` (millimetres, in its frame)."""
    records = np.zeros(len(mesh.faces), dtype=STL_RECORD)
    records["normal"] = mesh.face_normals()
    records["vertices"] = mesh.vertices[mesh.faces]
    title = f"Vesalius {mesh.name} ({mesh.frame} mm)".encode("ascii", "replace")[:80]
    header = title.ljust(80, b" ")
    if header.lower().startswith(b"solid"):  # ASCII STL readers would be fooled
        header = b"_" + header[1:]
    return header + struct.pack("<I", len(records)) + records.tobytes()


# -- OBJ -------------------------------------------------------------------------------


def obj_text(meshes: Sequence[Mesh]) -> str:
    """A Wavefront OBJ holding each mesh as a named object (1-based, shared numbering)."""
    lines = ["# Vesalius segment meshes", f"# units: mm, frame: {_frame(meshes)}"]
    offset = 1
    for mesh in meshes:
        lines.append(f"o {_safe_name(mesh.name)}")
        lines.extend(f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in mesh.vertices)
        lines.extend(f"f {a + offset} {b + offset} {c + offset}" for a, b, c in mesh.faces)
        offset += len(mesh.vertices)
    return "\n".join(lines) + "\n"


def _safe_name(name: str) -> str:
    return "_".join(name.split()) or "segment"


def _frame(meshes: Sequence[Mesh]) -> str:
    frames = {m.frame for m in meshes}
    if len(frames) > 1:
        raise ValueError(f"meshes in one file must share a frame, found {sorted(frames)}")
    return frames.pop() if frames else "LPS"


# -- glTF binary -----------------------------------------------------------------------

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON = 0x4E4F534A  # "JSON"
CHUNK_BIN = 0x004E4942  # "BIN\0"
_FLOAT, _UINT32 = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def _pad4(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 4)


def _gltf_parts(meshes: Sequence[Mesh]) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON document and its binary buffer."""
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "Vesalius"},
        "scene": 0,
        "scenes": [{"name": "segments", "nodes": list(range(len(meshes)))}],
        "nodes": [],
        "meshes": [],
        "materials": [],
        "accessors": [],
        "bufferViews": [],
    }
    blob = b""
    for k, mesh in enumerate(meshes):
        lps = mesh.in_frame("LPS")
        positions = (lps.vertices @ _LPS_TO_GLTF.T).astype("<f4")
        indices = lps.faces.astype("<u4").ravel()
        views = []
        for data, target in ((positions.tobytes(), _ARRAY_BUFFER), (indices.tobytes(), None)):
            view = {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)}
            view["target"] = target or _ELEMENT_ARRAY_BUFFER
            views.append(len(doc["bufferViews"]))
            doc["bufferViews"].append(view)
            blob = _pad4(blob + data, b"\0")
        doc["accessors"] += [
            {
                "bufferView": views[0],
                "componentType": _FLOAT,
                "count": len(positions),
                "type": "VEC3",
                "min": positions.min(axis=0).astype(float).tolist(),
                "max": positions.max(axis=0).astype(float).tolist(),
            },
            {
                "bufferView": views[1],
                "componentType": _UINT32,
                "count": len(indices),
                "type": "SCALAR",
                "min": [int(indices.min())],
                "max": [int(indices.max())],
            },
        ]
        color = [*_PALETTE[k % len(_PALETTE)], 1.0]
        doc["materials"].append(
            {"name": mesh.name, "pbrMetallicRoughness": {"baseColorFactor": color}}
        )
        primitive = {"attributes": {"POSITION": 2 * k}, "indices": 2 * k + 1, "material": k}
        doc["meshes"].append({"name": mesh.name, "primitives": [primitive]})
        doc["nodes"].append({"name": mesh.name, "mesh": k})
    doc["buffers"] = [{"byteLength": len(blob)}]
    return doc, blob


def glb_bytes(meshes: Sequence[Mesh]) -> bytes:
    """A binary glTF 2.0 (``.glb``): one named mesh and node per segment, in metres."""
    if not meshes:
        raise ValueError("a glTF file needs at least one mesh")
    doc, blob = _gltf_parts(meshes)
    text = _pad4(json.dumps(doc, separators=(",", ":")).encode("utf-8"), b" ")
    chunks = struct.pack("<II", len(text), CHUNK_JSON) + text
    chunks += struct.pack("<II", len(blob), CHUNK_BIN) + blob
    return struct.pack("<III", GLB_MAGIC, 2, 12 + len(chunks)) + chunks


# -- files -----------------------------------------------------------------------------


def _file_stem(name: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip())
    return kept.strip("_") or "segment"


def write_meshes(
    meshes: Sequence[Mesh], folder: Path, *, fmt: MeshFormat = "stl", stem: str = "segments"
) -> list[Path]:
    """Write ``meshes`` under ``folder``: one STL per segment, or one OBJ or GLB for all.

    Files are named ``<stem>-<segment name>.stl``, ``<stem>.obj`` or ``<stem>.glb``.

    Raises
    ------
    InputError
        Unknown format, or the folder cannot be written.
    """
    if fmt not in FORMATS:
        raise InputError(None, f"mesh format must be one of {FORMATS}, found {fmt!r}")
    if not meshes:
        raise InputError(None, "there is no mesh to write")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "stl":
            return [
                write_bytes_atomic(folder / f"{stem}-{_file_stem(m.name)}.stl", stl_bytes(m))
                for m in meshes
            ]
        if fmt == "obj":
            return [write_bytes_atomic(folder / f"{stem}.obj", obj_text(meshes).encode())]
        return [write_bytes_atomic(folder / f"{stem}.glb", glb_bytes(meshes))]
    except OSError as err:
        raise InputError(folder, f"cannot write meshes: {err.strerror or err}") from None
