import pytest
import torch

from interference_clf import encoder as enc
from interference_clf.config import ClassifierConfig
from interference_clf.modeling import ThreatModel, build_model, keep_layers, load_base_encoder, save_weights
from interference_clf.tokenization import TextEncoder, load_tokenizer


@pytest.fixture()
def tiny_base(tmp_path, monkeypatch, tiny_packed_path):
    monkeypatch.setenv(enc.CACHE_ENV, str(tmp_path / "cache"))
    files = enc.ensure_base_encoder(source=tiny_packed_path)
    return files, load_base_encoder(files), TextEncoder(load_tokenizer(files.tokenizer), "passage: ")


def test_cached_tiny_encoder_loads_and_runs(tiny_base):
    from interference_clf.modeling import pad_batch

    _, encoder, text_encoder = tiny_base
    ids, mask = pad_batch(text_encoder.truncated(["the election", "hackers"], 16), text_encoder.pad_id)
    with torch.no_grad():
        hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    assert hidden.shape[:2] == ids.shape and hidden.shape[2] == 32
    assert torch.isfinite(hidden).all()


def test_keep_layers_makes_a_shallower_encoder(tiny_base):
    _, encoder, _ = tiny_base
    top = encoder.encoder.layer[1].attention.self.query.weight.clone()
    keep_layers(encoder, [1])
    assert encoder.config.num_hidden_layers == 1 and len(encoder.encoder.layer) == 1
    assert torch.equal(encoder.encoder.layer[0].attention.self.query.weight, top)
    with pytest.raises(ValueError, match="subset"):
        keep_layers(encoder, [5])


def test_float16_storage_keeps_only_changed_tensors_and_restores_them(tiny_base, tmp_path):
    files, encoder, _ = tiny_base
    model = ThreatModel(encoder, num_labels=3)
    changed = ["encoder.layer.1.output.dense.weight"]
    with torch.no_grad():
        model.encoder.state_dict()[changed[0]].add_(0.125)
    config = ClassifierConfig(base_encoder={"name": "tiny", "source_sha256": files.source_sha256},
                              stored_encoder_tensors=changed, weights_dtype="float16")
    names = save_weights(model, config, tmp_path / "model.safetensors")
    assert names == changed
    from safetensors.torch import load_file

    stored = load_file(str(tmp_path / "model.safetensors"))
    assert set(stored) == {"encoder." + changed[0], "head.weight", "head.bias"}
    assert stored["encoder." + changed[0]].dtype == torch.float16 and stored["head.weight"].dtype == torch.float32
    rebuilt = build_model(config, tmp_path)
    expected = model.encoder.state_dict()[changed[0]].half().float()
    assert torch.equal(rebuilt.encoder.state_dict()[changed[0]], expected)


@pytest.mark.real_model
def test_translations_embed_closer_than_unrelated_sentences():
    files = enc.ensure_base_encoder()
    model = ThreatModel(load_base_encoder(files), num_labels=3).eval()
    text_encoder = TextEncoder(load_tokenizer(files.tokenizer), "passage: ")
    texts = [
        "The hackers broke into the election commission's servers.",
        "Des pirates informatiques ont pénétré les serveurs de la commission électorale.",
        "Хакеры взломали серверы избирательной комиссии.",
        "The bakery on the corner sells fresh bread every morning.",
    ]
    from interference_clf.modeling import pad_batch

    ids, mask = pad_batch(text_encoder.truncated(texts, 64), text_encoder.pad_id)
    with torch.no_grad():
        emb = torch.nn.functional.normalize(model.embed(ids, mask), dim=-1)
    sim = emb @ emb.T
    assert sim[0, 1] > sim[0, 3] + 0.05 and sim[0, 2] > sim[0, 3] + 0.05
    assert sim[1, 2] > sim[1, 3]
