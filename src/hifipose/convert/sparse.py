"""Densify a TFLite sparse constant (the DENSIFY op), vectorised with numpy.

TFLite stores a sparse tensor in a variant of the TACO format (schema.fbs,
``SparsityParameters``). The dense tensor has ``n`` dimensions; an optional ``k``-dimensional
block adds ``k`` more, each mapped to the original dimension it subdivides by ``block_map``.
The ``n + k`` dimensions are walked in ``traversal_order``; each level is either DENSE (every
coordinate ``0..dense_size-1`` is stored) or SPARSE_CSR (``array_segments[p]..[p+1]`` delimits
the stored coordinates ``array_indices`` under parent position ``p``). The position reached at
the last level indexes the stored values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hifipose.errors import ModelIntegrityError

__all__ = ["Level", "SparseIndexing", "densify"]

# A level: (dense_size, array_segments, array_indices); the arrays are None for a DENSE level.
Level = tuple[int, NDArray[np.int64] | None, NDArray[np.int64] | None]


@dataclass(frozen=True, slots=True)
class SparseIndexing:
    """A tensor's sparsity parameters, decoded.

    Attributes:
        traversal_order: The order in which the ``n + k`` dimensions are walked.
        block_map: For block dimension ``n + j``, the original dimension it subdivides.
        levels: One entry per traversal level (in traversal order).
    """

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    levels: tuple[Level, ...]


def densify(
    values: NDArray[np.generic], shape: tuple[int, ...], indexing: SparseIndexing
) -> NDArray[np.generic]:
    """Expand the stored non-zero ``values`` of a sparse tensor to a dense array of ``shape``.

    Args:
        values: The stored values, flat, in traversal order.
        shape: The dense tensor's shape (``n`` dimensions).
        indexing: The sparsity parameters.

    Returns:
        The dense tensor, with the dtype of ``values``; positions not stored are zero.

    Raises:
        ModelIntegrityError: The parameters are inconsistent with the shape or the values.
    """
    rank = len(shape)
    order = indexing.traversal_order
    if len(order) != len(indexing.levels) or len(order) != rank + len(indexing.block_map):
        msg = f"sparse tensor of shape {shape}: traversal order {order} does not fit"
        raise ModelIntegrityError(msg)
    block_sizes = [1] * rank
    for block, original in enumerate(indexing.block_map):
        level = order.index(rank + block)
        block_sizes[original] = indexing.levels[level][0]
    positions = np.zeros(1, dtype=np.int64)
    coordinates = np.zeros((1, len(order)), dtype=np.int64)
    for dimension, (dense_size, segments, indices) in zip(order, indexing.levels, strict=True):
        if segments is None or indices is None:  # DENSE: every coordinate, in order
            span = np.arange(dense_size, dtype=np.int64)
            positions = (positions[:, None] * dense_size + span).ravel()
            coordinates = np.repeat(coordinates, dense_size, axis=0)
            coordinates[:, dimension] = np.tile(span, len(coordinates) // max(dense_size, 1))
        else:  # SPARSE_CSR: the stored coordinates under each parent position
            if positions.size and positions.max() + 1 >= segments.size:
                msg = f"sparse tensor of shape {shape}: array_segments is too short"
                raise ModelIntegrityError(msg)
            starts, stops = segments[positions], segments[positions + 1]
            counts = stops - starts
            child = np.arange(int(counts.sum()), dtype=np.int64)
            child += np.repeat(starts - (np.cumsum(counts) - counts), counts)
            coordinates = np.repeat(coordinates, counts, axis=0)
            coordinates[:, dimension] = indices[child]
            positions = child
    if positions.size and positions.max() >= values.size:
        msg = f"sparse tensor of shape {shape}: {values.size} values, index {positions.max()}"
        raise ModelIntegrityError(msg)
    dense_index = coordinates[:, :rank] * np.asarray(block_sizes, dtype=np.int64)
    for block, original in enumerate(indexing.block_map):
        dense_index[:, original] += coordinates[:, rank + block]
    dense = np.zeros(shape, dtype=values.dtype)
    dense[tuple(dense_index.T)] = values[positions]
    return dense
