import pytest

from interference_clf.offline import OFFLINE_SWITCHES, HubAccessError, check_local_path


def test_offline_switches_are_set_and_hub_names_refused():
    import os

    import interference_clf.modeling  # noqa: F401  (transformers is imported there, after the switches)

    for name, value in OFFLINE_SWITCHES.items():
        assert os.environ[name] == value
    with pytest.raises(HubAccessError, match="never downloads"):
        check_local_path("intfloat/multilingual-e5-small")
