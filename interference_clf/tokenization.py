"""From texts to the token windows the model reads.

Only the ``tokenizers`` library is used (not transformers): it keeps the
tokenizer's normaliser exactly as saved and loads in a fraction of the time.

Long texts are never silently truncated: the tokens after the prefix are cut
into overlapping windows that each fit ``max_length``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"


def split_windows(token_ids: Sequence[int], size: int) -> list[list[int]]:
    """Cut a token sequence into windows of at most ``size`` overlapping by a quarter."""
    if size < 1:
        raise ValueError(f"window size must be positive, got {size}")
    if len(token_ids) <= size:
        return [list(token_ids)]
    step = max(1, size - size // 4)
    starts = list(range(0, len(token_ids) - size, step)) + [len(token_ids) - size]
    return [list(token_ids[start : start + size]) for start in starts]


def load_tokenizer(path: str | Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class TextEncoder:
    """A tokenizer plus the model's input conventions: ``<s> prefix text </s>``, at most ``max_length`` tokens."""

    def __init__(self, tokenizer: Tokenizer, prefix: str):
        self.tokenizer = tokenizer
        ids = {name: tokenizer.token_to_id(name) for name in (BOS, EOS, PAD)}
        missing = [name for name, value in ids.items() if value is None]
        if missing:
            raise ValueError(f"the tokenizer lacks the special tokens {missing}")
        self.bos_id, self.eos_id, self.pad_id = ids[BOS], ids[EOS], ids[PAD]
        # E5 was trained on "passage: <text>"; the prefix is tokenised once, apart from the text,
        # which tokenises exactly like the joined string because pieces start at word boundaries.
        self.prefix_ids = self.token_ids([prefix.strip()])[0] if prefix.strip() else []

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens or prefix."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def text_budget(self, max_length: int) -> int:
        """How many text tokens fit in one window after the special tokens and the prefix."""
        budget = max_length - 2 - len(self.prefix_ids)
        if budget < 1:
            raise ValueError(f"max_length={max_length} leaves no room for text after the prefix")
        return budget

    def wrap(self, content: Sequence[int]) -> list[int]:
        return [self.bos_id, *self.prefix_ids, *content, self.eos_id]

    def windows(self, texts: Sequence[str], max_length: int) -> tuple[list[list[int]], list[int]]:
        """Token windows, each with special tokens and prefix, and the index of the text each belongs to."""
        budget = self.text_budget(max_length)
        windows: list[list[int]] = []
        owners: list[int] = []
        for index, ids in enumerate(self.token_ids(texts)):
            for chunk in split_windows(ids, budget):
                windows.append(self.wrap(chunk))
                owners.append(index)
        return windows, owners

    def truncated(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        """One window per text, cut at ``max_length`` (training: the passages are short)."""
        budget = self.text_budget(max_length)
        return [self.wrap(ids[:budget]) for ids in self.token_ids(texts)]
