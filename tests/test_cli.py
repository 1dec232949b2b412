import json

from interference_clf.cli import main


def test_info(tiny_classifier_folder, capsys):
    assert main(["info", "--model", str(tiny_classifier_folder)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["labels"] == ["cyberattack", "disinformation", "espionage"]
    assert set(info["thresholds"]) == set(info["labels"])
    assert "cache" in info and "base_encoder" in info


def test_predict_arguments(tiny_classifier_folder, capsys):
    assert main(["predict", "--model", str(tiny_classifier_folder), "one text", "zweiter Text"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["one text", "zweiter Text"]
    assert all(set(line["scores"]) == {"cyberattack", "disinformation", "espionage"} for line in lines)


def test_predict_bad_text_is_a_clear_error(tiny_classifier_folder, capsys):
    assert main(["predict", "--model", str(tiny_classifier_folder), "   "]) == 2
    assert "texts[0] is empty" in capsys.readouterr().err


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    assert main(["info", "--model", str(tmp_path / "nope")]) == 2
    assert "never downloads" in capsys.readouterr().err


def test_evaluate_writes_report(tiny_classifier_folder, tmp_path, capsys):
    data = tmp_path / "gold.jsonl"
    rows = [{"text": "hackers hit the election site", "labels": ["cyberattack"], "lang": "en"},
            {"text": "sunny weather today", "labels": [], "lang": "en"},
            {"text": "un espion arrêté", "labels": ["espionage"], "lang": "fr"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["evaluate", str(data), "--model", str(tiny_classifier_folder), "--report", str(tmp_path / "r")])
    assert code == 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["n"] == 3 and set(metrics["per_language"]) == {"en", "fr"}
    assert "macro-F1" in capsys.readouterr().out
