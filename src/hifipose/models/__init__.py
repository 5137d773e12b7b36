"""Model files: the pinned registry, the per-user cache, and explicit fetching."""

from __future__ import annotations

from hifipose.models.cache import cache_dir, models_dir, verify_file
from hifipose.models.fetch import ensure_model, fetch_models, model_status
from hifipose.models.registry import MODEL_SPECS, NPM_PACKAGE, ModelSpec, landmark_model_name

__all__ = [
    "MODEL_SPECS",
    "NPM_PACKAGE",
    "ModelSpec",
    "cache_dir",
    "ensure_model",
    "fetch_models",
    "landmark_model_name",
    "model_status",
    "models_dir",
    "verify_file",
]
