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


def test_predict_with_evidence(tiny_classifier_folder, capsys):
    text = "Hackers broke into the election commission servers. Bots spread a fake poll before the vote."
    assert main(["predict", "--model", str(tiny_classifier_folder), "--evidence", text]) == 0
    line = json.loads(capsys.readouterr().out)
    assert set(line["evidence"]) == set(line["labels"])
    for spans in line["evidence"].values():
        assert all(text[s["start"] : s["end"]].strip() and 0 <= s["start"] < s["end"] <= len(text) for s in spans)


def test_info_lists_the_shipped_models(capsys):
    assert main(["info", "--models"]) == 0
    models = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert "interference-e5-small" in models
    assert sum(row["default"] for row in models.values()) == 1
    assert all(0 < row["size_mb"] < 50 and row["layers"] in (6, 12) for row in models.values())


def test_train_adapts_a_model_and_saves_it(tiny_classifier_folder, tmp_path, capsys):
    rows = [{"text": t, "labels": ["cyberattack"] if "hackers" in t else []}
            for t in ["the hackers", "hackers the election", "the election", "election the"] * 6]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"text": "", "labels": []}\n')
    args = ["train", str(data), "--output", str(tmp_path / "m"), "--from", str(tiny_classifier_folder),
            "--trained-layers", "1", "--epochs", "1", "--max-length", "16", "--weights-dtype", "float32"]
    assert main(args) == 2
    assert "row 25: 'text' is empty" in capsys.readouterr().err
    assert main([*args, "--skip-bad-rows"]) == 0
    err = capsys.readouterr().err
    assert "skipped row 25" in err and "saved to" in err
    assert main(["info", "--model", str(tmp_path / "m")]) == 0
    assert json.loads(capsys.readouterr().out)["label_spec"] == "docs/LABELS.md"
