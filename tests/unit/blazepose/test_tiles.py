import numpy as np
import pytest

from hifipose.blazepose.detection import Detection
from hifipose.blazepose.roi import Roi
from hifipose.blazepose.tiles import (
    SQUARE_OVERLAP,
    TILE_OVERLAP,
    auto_tiles,
    detector_tiles,
    short_side_squares,
    tile_to_frame,
)


def test_no_tiles_for_one_per_side() -> None:
    assert detector_tiles((1280, 720), 1) == []


@pytest.mark.parametrize(("size", "k"), [((1280, 720), 2), ((1920, 1080), 3), ((480, 640), 2)])
def test_tiles_are_squares_inside_the_frame_covering_it_with_overlap(
    size: tuple[int, int], k: int
) -> None:
    width, height = size
    tiles = detector_tiles(size, k)
    side = tiles[0].size_px[0]
    assert side == pytest.approx(min(size) / k * (1 + TILE_OVERLAP))
    covered = np.zeros((height, width), bool)
    for tile in tiles:
        assert tile.size_px == (side, side)
        x0, y0 = tile.center_px[0] - side / 2, tile.center_px[1] - side / 2
        assert x0 >= -1e-6 and y0 >= -1e-6
        assert x0 + side <= width + 1e-6 and y0 + side <= height + 1e-6
        covered[round(y0) : round(y0 + side), round(x0) : round(x0 + side)] = True
    assert covered.all()


def test_tile_coordinates_map_to_the_frame() -> None:
    tile = Roi(center_px=(500.0, 300.0), size_px=(200.0, 200.0), angle_rad=0.0)
    detection = Detection(
        score=0.9,
        box=np.array([0.0, 0.0, 0.5, 1.0], np.float32),
        keypoints=np.array([[0.5, 0.5], [1.0, 0.0], [0, 0], [0, 0]], np.float32),
    )
    mapped = tile_to_frame(detection, tile, (1000, 600))
    np.testing.assert_allclose(mapped.box, [400 / 1000, 200 / 600, 500 / 1000, 400 / 600])
    np.testing.assert_allclose(mapped.keypoints[:2], [[0.5, 0.5], [0.6, 200 / 600]])
    assert mapped.score == 0.9


def _starts_along(tiles: list[Roi], axis: int) -> list[float]:
    side = tiles[0].size_px[0]
    return sorted({round(t.center_px[axis] - side / 2, 6) for t in tiles})


@pytest.mark.parametrize(
    ("size", "k"),
    [
        ((1280, 720), 2),
        ((1920, 1080), 3),
        ((480, 640), 2),
        ((1000, 400), 2),  # the long side needs 5 tiles at exactly 25 % overlap
        ((1001, 400), 2),  # one pixel more: a 6th
        ((500, 500), 8),  # square, at the tile limit
    ],
)
def test_neighbouring_tiles_overlap_by_at_least_the_overlap_and_no_tile_is_spare(
    size: tuple[int, int], k: int
) -> None:
    tiles = detector_tiles(size, k)
    side = tiles[0].size_px[0]
    for axis in (0, 1):
        starts = _starts_along(tiles, axis)
        steps = np.diff(starts)
        assert (steps <= side * (1 - TILE_OVERLAP) + 1e-6).all()  # overlap >= 25 %
        if len(starts) >= 3:  # one tile fewer could not keep that overlap
            span = size[axis] - side
            assert span / (len(starts) - 2) > side * (1 - TILE_OVERLAP)
    assert len(tiles) == len(_starts_along(tiles, 0)) * len(_starts_along(tiles, 1))


def test_tile_counts_at_the_edge_of_the_overlap_rule() -> None:
    # side = 400 / 2 × 1.25 = 250; step at most 187.5: (1000 - 250) / 187.5 = 4 steps exactly.
    assert len(_starts_along(detector_tiles((1000, 400), 2), 0)) == 5
    assert len(_starts_along(detector_tiles((1001, 400), 2), 0)) == 6
    assert len(_starts_along(detector_tiles((1000, 400), 2), 1)) == 2


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1920, 1080), (1000, 999)])
def test_short_side_squares_span_the_long_side_with_overlap(size: tuple[int, int]) -> None:
    squares = short_side_squares(size)
    short, long = min(size), max(size)
    axis = int(size[1] > size[0])
    assert all(s.size_px == (short, short) and s.angle_rad == 0.0 for s in squares)
    starts = [s.center_px[axis] - short / 2 for s in squares]
    assert starts[0] == 0.0
    assert starts[-1] + short == pytest.approx(long)
    steps = np.diff(starts)
    overlap = SQUARE_OVERLAP if axis == 0 else TILE_OVERLAP  # side by side, or stacked
    assert np.all(steps <= short * (1 - overlap) + 1e-9)  # each pair overlaps enough
    assert len(squares) == 1 + int(np.ceil((long - short) / (short * (1 - overlap))))


def test_auto_tiles_are_squares_in_video_and_the_grid_on_photos() -> None:
    assert short_side_squares((720, 720)) == []
    assert len(auto_tiles((1280, 720), video=True)) == 2  # overlap 160 px (0.22)
    assert len(short_side_squares((1440, 720))) == 3  # two would only touch
    assert len(short_side_squares((720, 1280))) == 3  # stacked: seams across people
    assert auto_tiles((1280, 720), video=True) == short_side_squares((1280, 720))
    assert auto_tiles((720, 720), video=True) == detector_tiles((720, 720), 2)  # no squares
    assert auto_tiles((1280, 720), video=False) == detector_tiles((1280, 720), 2)
