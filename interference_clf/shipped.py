"""The models that ship with the library, by name."""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
TEACHER = "interference-e5-small"
STUDENT = "interference-e5-small-6l"
DEFAULT_MODEL = TEACHER


def shipped_models() -> dict[str, Path]:
    """Name → folder of every shipped model (a folder under ``models/`` holding a config.json)."""
    if not MODELS_DIR.is_dir():
        return {}
    return {path.name: path for path in sorted(MODELS_DIR.iterdir()) if (path / "config.json").is_file()}


def resolve_model(name_or_path: str | Path | None) -> Path:
    """A shipped model's folder for its name (or the default for None); anything else is taken as a path."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL if DEFAULT_MODEL in shipped_models() else TEACHER
    models = shipped_models()
    if isinstance(name_or_path, str) and name_or_path in models and not Path(name_or_path).exists():
        return models[name_or_path]
    return Path(name_or_path)
