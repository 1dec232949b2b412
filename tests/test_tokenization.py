import pytest

from interference_clf.encoder import ensure_base_encoder
from interference_clf.tokenization import TextEncoder, load_tokenizer, split_windows


def test_split_windows_cover_every_token_with_overlap():
    tokens = list(range(50))
    windows = split_windows(tokens, 16)
    assert all(len(w) <= 16 for w in windows)
    assert sorted({t for w in windows for t in w}) == tokens
    assert windows[0][-4:] == windows[1][:4]  # a quarter of the window overlaps
    assert split_windows(tokens[:10], 16) == [tokens[:10]]
    with pytest.raises(ValueError):
        split_windows(tokens, 0)


def test_windows_hold_special_tokens_prefix_and_every_text_token(tiny_classifier):
    encoder = tiny_classifier.text_encoder
    texts = ["the election hackers", "the election " * 20]
    windows, owners = encoder.windows(texts, max_length=16)
    assert owners[0] == 0 and owners.count(1) > 1
    for window in windows:
        assert len(window) <= 16
        assert window[0] == encoder.bos_id and window[-1] == encoder.eos_id
        assert window[1 : 1 + len(encoder.prefix_ids)] == encoder.prefix_ids
    assert windows[0][1 + len(encoder.prefix_ids) : -1] == encoder.token_ids(texts[:1])[0]
    assert encoder.truncated(texts, 16)[1] == windows[1]  # training cuts long texts to their first window
    with pytest.raises(ValueError, match="no room"):
        encoder.text_budget(3)


@pytest.mark.real_model
def test_real_tokenizer_gives_xlmr_pieces_on_multilingual_text():
    tokenizer = load_tokenizer(ensure_base_encoder().tokenizer)
    encoder = TextEncoder(tokenizer, "passage: ")
    cases = {
        "Hello world": ["<s>", "▁Hello", "▁world", "</s>"],
        "Хакеры взломали": ["<s>", "▁Ха", "кер", "ы", "▁вз", "лом", "али", "</s>"],
    }
    for text, pieces in cases.items():
        assert tokenizer.encode(text).tokens == pieces
    unknown = tokenizer.token_to_id("<unk>")
    for text in ["选举委员会的网站遭到攻击。", "الانتخابات ستجري في الربيع", "Wahlbetrug? Nein … º"]:
        ids = tokenizer.encode(text).ids
        assert ids[0] == encoder.bos_id and ids[-1] == encoder.eos_id
        assert unknown not in ids, text
    # The prefix tokenised apart from the text gives the ids of the joined string.
    joined = tokenizer.encode("passage: Hackers broke in").ids
    assert encoder.wrap(encoder.token_ids(["Hackers broke in"])[0]) == joined
