from pathlib import Path

from interference_clf import shipped


def test_shipped_models_are_found_by_name_and_the_default_exists():
    models = shipped.shipped_models()
    assert shipped.TEACHER in models and shipped.DEFAULT_MODEL in models
    assert shipped.resolve_model(None) == models[shipped.DEFAULT_MODEL]
    assert shipped.resolve_model(shipped.TEACHER) == models[shipped.TEACHER]


def test_anything_else_is_a_path(tmp_path):
    assert shipped.resolve_model(str(tmp_path)) == tmp_path
    assert shipped.resolve_model("no/such/model") == Path("no/such/model")
