import numpy as np
import pytest

from hifipose.convert.sparse import SparseIndexing, densify
from hifipose.errors import ModelIntegrityError


def _csr(segments, indices):
    return (0, np.array(segments, np.int64), np.array(indices, np.int64))


def test_values_row_major_csr_matrix() -> None:
    # rows dense, columns CSR: row 0 holds columns 1 and 3, row 1 holds column 0
    indexing = SparseIndexing((0, 1), (), ((2, None, None), _csr([0, 2, 3], [1, 3, 0])))
    dense = densify(np.array([1.0, 2.0, 3.0], np.float32), (2, 4), indexing)
    np.testing.assert_array_equal(dense, [[0, 1, 0, 2], [3, 0, 0, 0]])


def test_convention_traversal_order_is_pinned_by_a_column_major_case() -> None:
    # columns first: column 0 holds row 1, column 1 nothing, column 2 rows 0 and 1. A swapped
    # traversal order would put the values at the transposed positions.
    indexing = SparseIndexing((1, 0), (), ((3, None, None), _csr([0, 1, 1, 3], [1, 0, 1])))
    dense = densify(np.array([1.0, 2.0, 3.0], np.float32), (2, 3), indexing)
    np.testing.assert_array_equal(dense, [[0, 0, 2], [1, 0, 3]])


def test_values_block_sparse_matrix() -> None:
    # 4×4 in 2×2 blocks: block row 0 holds block column 1, block row 1 holds block column 0;
    # inside a block the values are row-major.
    indexing = SparseIndexing(
        (0, 1, 2, 3),
        (0, 1),
        ((2, None, None), _csr([0, 1, 2], [1, 0]), (2, None, None), (2, None, None)),
    )
    values = np.arange(1, 9, dtype=np.float32)
    expected = np.zeros((4, 4), np.float32)
    expected[0:2, 2:4] = [[1, 2], [3, 4]]
    expected[2:4, 0:2] = [[5, 6], [7, 8]]
    np.testing.assert_array_equal(densify(values, (4, 4), indexing), expected)


def test_shapes_dtype_is_kept() -> None:
    indexing = SparseIndexing((0,), (), ((3, None, None),))
    dense = densify(np.array([1, 2, 3], np.float16), (3,), indexing)
    assert dense.dtype == np.float16
    assert dense.shape == (3,)


@pytest.mark.parametrize(
    ("values", "indexing", "match"),
    [
        (np.zeros(3, np.float32), SparseIndexing((0, 1), (), ((2, None, None),)), "does not fit"),
        (
            np.zeros(1, np.float32),
            SparseIndexing((0, 1), (), ((2, None, None), _csr([0, 2, 3], [1, 3, 0]))),
            "values",
        ),
        (
            np.zeros(3, np.float32),
            SparseIndexing((0, 1), (), ((2, None, None), _csr([0, 2], [1, 3]))),
            "array_segments",
        ),
    ],
)
def test_exception_inconsistent_parameters(values, indexing, match) -> None:
    with pytest.raises(ModelIntegrityError, match=match):
        densify(values, (2, 4), indexing)
