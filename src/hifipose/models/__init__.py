"""Model files: the pinned registry, the per-user cache, and explicit, verified fetching.

Only :func:`ensure_model` (called by ``create_detector``) and :func:`fetch_models` (called by
``hifipose models fetch``) ever download; everything else reads local files.
"""

from __future__ import annotations

from hifipose.models.cache import cache_dir, models_dir, verify_file
from hifipose.models.clean import clean_cache, derived_status
from hifipose.models.fetch import (
    ModelState,
    ModelStatus,
    ProgressCallback,
    ensure_model,
    fetch_models,
    model_status,
    verify_models,
)
from hifipose.models.registry import (
    HOLISTIC_NPM_PACKAGE,
    HOLISTIC_SPECS,
    MODEL_SPECS,
    NPM_PACKAGE,
    ModelSpec,
    landmark_model_name,
)

__all__ = [
    "HOLISTIC_NPM_PACKAGE",
    "HOLISTIC_SPECS",
    "MODEL_SPECS",
    "NPM_PACKAGE",
    "ModelSpec",
    "ModelState",
    "ModelStatus",
    "ProgressCallback",
    "cache_dir",
    "clean_cache",
    "derived_status",
    "ensure_model",
    "fetch_models",
    "landmark_model_name",
    "model_status",
    "models_dir",
    "verify_file",
    "verify_models",
]
