from interference_clf.progress import progress


def test_log_lines_when_not_on_a_terminal(capsys):
    bar = progress(10, "scoring", "texts")
    bar.update(4)
    bar.update(6)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("scoring: 0/10 texts") and lines[-1].startswith("scoring: 10/10 texts")
    assert all("\r" not in line for line in lines) and "ETA" in lines[-1]


def test_open_ended_and_disabled_bars(capsys):
    bar = progress(None, "labelling", "rows")
    bar.update(5)
    bar.close()
    assert capsys.readouterr().err.splitlines()[-1].startswith("labelling: 5 rows (")
    quiet = progress(3, "x", enabled=False)
    quiet.update(3)
    quiet.close()
    assert capsys.readouterr().err == ""
