from dataclasses import asdict

from interference_clf.training_args import TrainingArguments
from training.arguments import RecipeArguments
from training.report import comparison_table, reproduce_command_from, variants_table


def test_reproduce_command_lists_only_changed_arguments():
    recipe = RecipeArguments(exclude_languages=["pt", "ro"], baselines=False, output="elsewhere/model",
                             realworld="somewhere/real.jsonl", variant="x")
    args = TrainingArguments(epochs=4)
    assert reproduce_command_from({**asdict(recipe), **asdict(args)}) == (
        "python -m training.train --realworld REALWORLD.jsonl --no-baselines --exclude-languages pt ro --epochs 4"
    )


def test_arguments_parse_from_the_command_line():
    recipe, args = RecipeArguments.parse(["--trained-layers", "6", "--exclude-languages", "pt", "--no-baselines"])
    assert args.trained_layers == 6 and recipe.exclude_languages == ["pt"] and recipe.baselines is False


def test_comparison_table_has_a_row_per_model_and_set():
    row = {"macro_f1": 0.5, "micro_f1": 0.6, "exact_match": 0.4, "none_vs_threat_accuracy": 0.9,
           "per_label": {label: {"f1": 0.1} for label in ("cyberattack", "disinformation", "espionage")}}
    table = comparison_table({"model a": {"dev": row, "test": row}, "model b": {"dev": row}}, ("dev", "test"))
    lines = table.splitlines()
    assert len(lines) == 2 + 3
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|")  # a valid Markdown table
    assert lines[2] == "| dev | model a | 0.500 | 0.600 | 0.100 | 0.100 | 0.100 | 0.400 | 0.900 |"


def test_variants_table_shows_each_variant_with_its_real_world_numbers():
    numbers = {"macro_f1": 0.9, "none_vs_threat_accuracy": 0.95, "espionage_precision": 0.81,
               "espionage_recall": 0.8, "disinformation_precision": 0.7}
    rows = [{"variant": "top-4", "command": "python -m training.train --trained-layers 4", "best_epoch": 3,
             "train_seconds": 600.0, "machine": "cpu", "dev": numbers, "test": numbers},
            {"variant": "all-12", "command": "python -m training.train", "best_epoch": 5, "train_seconds": 1500.0,
             "machine": "cpu", "dev": numbers, "test": numbers, "realworld": numbers}]
    lines = variants_table(rows).splitlines()
    assert "| top-4 | 0.900 | 0.900 | — | — | — | — | 3 | 600 |" in lines[6]
    assert "| all-12 | 0.900 | 0.900 | 0.900 | 0.81 / 0.80 | 0.70 | 0.950 | 5 | 1500 |" in lines[7]
