from dataclasses import asdict

from training.arguments import TrainingArguments
from training.report import comparison_table, reproduce_command_from


def test_reproduce_command_lists_only_changed_arguments():
    args = TrainingArguments(epochs=4, exclude_languages=["pt", "ro"], baselines=False, output="elsewhere/model")
    assert reproduce_command_from(asdict(args)) == (
        "python -m training.train --epochs 4 --exclude-languages pt ro --no-baselines"
    )


def test_arguments_parse_from_the_command_line():
    args = TrainingArguments.parse(["--trained-layers", "6", "--exclude-languages", "pt", "--no-baselines"])
    assert args.trained_layers == 6 and args.exclude_languages == ["pt"] and args.baselines is False


def test_comparison_table_has_a_row_per_model_and_set():
    row = {"macro_f1": 0.5, "micro_f1": 0.6, "exact_match": 0.4, "none_vs_threat_accuracy": 0.9,
           "per_label": {label: {"f1": 0.1} for label in ("cyberattack", "disinformation", "espionage")}}
    table = comparison_table({"model a": {"dev": row, "test": row}, "model b": {"dev": row}}, ("dev", "test"))
    lines = table.splitlines()
    assert len(lines) == 2 + 3
    assert lines[2] == "| dev | model a | 0.500 | 0.600 | 0.100 | 0.100 | 0.100 | 0.400 | 0.900 |"
