"""MediaPipe's three custom ops (face model with attention), converted to torch and ONNX.

Each op is checked on random inputs against a plain numpy transcription of the upstream
kernel (mediapipe/util/tflite/operations/, version 2): loops and explicit matrix products,
written from the upstream text, independent of the converters' vectorised forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from hifipose.convert.graph import Graph, Operator, OpOptions, TensorSpec

torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from hifipose.convert.onnx_export import to_onnx  # noqa: E402 - after the extras are known
from hifipose.convert.torch_export import to_torch  # noqa: E402

Array = NDArray[np.float32]
SUBSET = (3, 0, 7, 5, 9, 2, 11)  # odd length, as the eye ops have
L2TM_OPTIONS = OpOptions(
    subset=SUBSET, rotation_pair=(2, 9), target_rotation=0.3, output_hw=(5, 7), scale_xy=(1.5, 1.2)
)


def _graph(
    kind: str, shapes: list[tuple[int, ...]], out: tuple[int, ...], options: OpOptions
) -> Graph:
    tensors = tuple(TensorSpec(f"in{i}", s) for i, s in enumerate(shapes))
    tensors += (TensorSpec("out", out),)
    inputs = tuple(range(len(shapes)))
    return Graph(
        tensors=tensors,
        constants={},
        operators=(Operator(kind, inputs, (len(shapes),), options),),
        inputs=inputs,
        outputs=(len(shapes),),
        sha256="0" * 64,
    )


def _run_both(graph: Graph, feeds: list[Array]) -> tuple[Array, Array]:
    """The op through the torch module and through onnxruntime (batch = first axis)."""
    with torch.no_grad():
        (by_torch,) = to_torch(graph)(*(torch.from_numpy(f) for f in feeds))
    model = to_onnx(graph)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (by_onnx,) = session.run(None, {f"in{i}": f for i, f in enumerate(feeds)})
    return by_torch.numpy(), by_onnx


# ---- the numpy references, one batch item at a time, as upstream's loops ----------------------


def _mat(rows: list[list[float]]) -> NDArray[np.float64]:
    return np.array(rows, np.float64)


def ref_landmarks_to_matrix(landmarks: Array, o: OpOptions) -> NDArray[np.float64]:
    left, right = landmarks[o.rotation_pair[0]], landmarks[o.rotation_pair[1]]
    rotation = o.target_rotation - math.atan2(right[1] - left[1], right[0] - left[0])
    c, s = math.cos(rotation), math.sin(rotation)
    turned = [
        (c * landmarks[i, 0] - s * landmarks[i, 1], s * landmarks[i, 0] + c * landmarks[i, 1])
        for i in o.subset
    ]
    xs, ys = [p[0] for p in turned], [p[1] for p in turned]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    mid = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
    cx = math.cos(-rotation) * mid[0] - math.sin(-rotation) * mid[1]
    cy = math.sin(-rotation) * mid[0] + math.cos(-rotation) * mid[1]
    out_h, out_w = o.output_hw
    r = -rotation
    shift = _mat([[1, 0, 0, cx], [0, 1, 0, cy], [0, 0, 1, 0], [0, 0, 0, 1]])
    rotate = _mat(
        [
            [math.cos(r), -math.sin(r), 0, 0],
            [math.sin(r), math.cos(r), 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
        ]
    )
    sx, sy = o.scale_xy[0] * width / out_w, o.scale_xy[1] * height / out_h
    scale = _mat([[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    centre = _mat([[1, 0, 0, -out_w / 2], [0, 1, 0, -out_h / 2], [0, 0, 1, 0], [0, 0, 0, 1]])
    return shift @ rotate @ scale @ centre


def ref_transform_tensor(image: Array, matrix: Array, out_hw: tuple[int, int]) -> Array:
    height, width, channels = image.shape
    m = matrix.astype(np.float64)
    x_row, y_row = m[0].copy(), m[1].copy()
    x_row[3] += x_row[0] * 0.5 + x_row[1] * 0.5 - 0.5
    y_row[3] += y_row[0] * 0.5 + y_row[1] * 0.5 - 0.5
    out = np.zeros((*out_hw, channels), np.float64)

    def read(h: int, w: int) -> NDArray[np.float64]:
        inside = 0 <= h < height and 0 <= w < width
        return image[h, w].astype(np.float64) if inside else np.zeros(channels)

    for oy in range(out_hw[0]):
        for ox in range(out_hw[1]):
            point = np.array([ox, oy, 0.0, 1.0])
            tx, ty = float(x_row @ point), float(y_row @ point)
            if tx < 0 or tx > width - 1 or ty < 0 or ty > height - 1:
                continue
            fx, fy = math.floor(tx), math.floor(ty)
            rx, ry = tx - fx, ty - fy
            upper = (1 - rx) * read(fy, fx) + rx * read(fy, fx + 1)
            lower = (1 - rx) * read(fy + 1, fx) + rx * read(fy + 1, fx + 1)
            out[oy, ox] = ry * lower + (1 - ry) * upper
    return out.astype(np.float32)


def ref_transform_landmarks(points: Array, matrix: Array) -> Array:
    out = points.astype(np.float64).copy()
    for i, point in enumerate(points.astype(np.float64)):
        vector = np.array([point[0], point[1], 0.0, 1.0])
        out[i, 0] = matrix[0].astype(np.float64) @ vector
        out[i, 1] = matrix[1].astype(np.float64) @ vector
    return out.astype(np.float32)


# ---- the tests -------------------------------------------------------------------------------


def test_landmarks_to_transform_matrix_matches_the_upstream_kernel() -> None:
    rng = np.random.default_rng(0)
    landmarks = rng.uniform(0, 48, (6, 12, 3)).astype(np.float32)
    landmarks[0, 9, :2] = landmarks[0, 2, :2] + (0.0, -5.0)  # a vertical eye line
    graph = _graph("LANDMARKS_TO_TRANSFORM_MATRIX", [(1, 12, 3)], (1, 4, 4), L2TM_OPTIONS)
    expected = np.stack([ref_landmarks_to_matrix(item, L2TM_OPTIONS) for item in landmarks])
    for result in _run_both(graph, [landmarks]):
        assert result.shape == (6, 4, 4)
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_transform_tensor_bilinear_matches_the_upstream_kernel() -> None:
    """Random feature maps sampled at crops placed from random landmarks (some leave the map,
    reading zeros), and at plain shifts that hit cell centres and the last row exactly."""
    rng = np.random.default_rng(1)
    out_hw = (5, 7)
    images = rng.standard_normal((8, 11, 13, 4)).astype(np.float32)
    landmarks = rng.uniform(-3, 16, (8, 12, 3))
    matrices = np.stack([ref_landmarks_to_matrix(item, L2TM_OPTIONS) for item in landmarks])
    matrices[6] = np.eye(4)  # identity: cell (x, y) reads cell (x, y)
    matrices[7] = np.eye(4)
    matrices[7, :2, 3] = (6.0, 6.0)  # the crop's last row lands exactly on the map's last
    matrix_feed = matrices.astype(np.float32)
    graph = _graph(
        "TRANSFORM_TENSOR_BILINEAR",
        [(1, 11, 13, 4), (1, 4, 4)],
        (1, *out_hw, 4),
        OpOptions(output_hw=out_hw),
    )
    expected = np.stack(
        [ref_transform_tensor(i, m, out_hw) for i, m in zip(images, matrix_feed, strict=True)]
    )
    assert (expected == 0).all(axis=-1).any(), "no sample fell outside the map"
    np.testing.assert_array_equal(expected[6], images[6, :5, :7])
    for result in _run_both(graph, [images, matrix_feed]):
        assert result.shape == (8, *out_hw, 4)
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dims", [2, 3])
def test_transform_landmarks_matches_the_upstream_kernel(dims: int) -> None:
    rng = np.random.default_rng(2)
    points = rng.uniform(-2, 20, (4, 9, dims)).astype(np.float32)
    matrices = rng.standard_normal((4, 4, 4)).astype(np.float32)
    graph = _graph("TRANSFORM_LANDMARKS", [(1, 9, dims), (1, 4, 4)], (1, 9, dims), OpOptions())
    expected = np.stack(
        [ref_transform_landmarks(p, m) for p, m in zip(points, matrices, strict=True)]
    )
    for result in _run_both(graph, [points, matrices]):
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-4)
