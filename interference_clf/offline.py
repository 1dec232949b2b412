"""Keep every Hugging Face library off the network.

The product runs where no model hub answers; anything that still tries to
reach one must fail at once with a message that says why, not hang.
"""

from __future__ import annotations

import os

OFFLINE_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
}


class HubAccessError(RuntimeError):
    """Something asked for weights or data from a model hub."""


def enforce_offline() -> None:
    """Set the offline switches before transformers or huggingface_hub are imported."""
    for name, value in OFFLINE_SWITCHES.items():
        os.environ[name] = value


def check_local_path(path: str | os.PathLike) -> None:
    """Refuse a model reference that is not a local folder (it would mean a hub download)."""
    if not os.path.isdir(path):
        raise HubAccessError(
            f"{os.fspath(path)!r} is not a local folder. interference_clf never downloads models: "
            "pass the path of a folder written by Classifier.save_pretrained, or call "
            "interference_clf.load() for the shipped model."
        )
