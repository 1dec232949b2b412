from interference_clf.machine import SPEED_FLAGS, cpu_line, cpu_summary


def test_cpu_summary_names_only_known_instruction_sets():
    summary = cpu_summary()
    assert summary["cores"] >= 1 and summary["cpu"]
    assert set(summary["instruction_sets"]) <= set(SPEED_FLAGS)
    assert cpu_line().startswith(summary["cpu"])
