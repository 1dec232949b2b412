"""The real shipped model, loaded once: clear multilingual cases must come out right."""

import numpy as np
import pytest

import interference_clf as ic

pytestmark = pytest.mark.real_model

CLEAR_CASES = [
    ("en", "Hackers broke into the electoral commission's servers and stole the voter roll.", ["cyberattack"]),
    ("fr", "Des pirates informatiques ont piraté les serveurs de la commission électorale et volé les listes "
           "d'électeurs.", ["cyberattack"]),
    ("de", "Hunderte gefälschte Konten verbreiteten ein manipuliertes Video, das den Kandidaten beim "
           "Stimmenkauf zeigen sollte.", ["disinformation"]),
    ("ru", "Сотрудник аппарата депутата арестован по обвинению в шпионаже: он передавал документы "
           "иностранной разведке.", ["espionage"]),
    ("en", "The home team attacked all evening and won the final 3-1.", []),
    ("fr", "Le budget de la ville a été adopté hier soir par le conseil municipal.", []),
]


@pytest.fixture(scope="module")
def clf():
    return ic.load()


def test_shipped_model_loads_with_its_spec(clf):
    assert clf.labels == ic.LABELS
    assert all(0.0 < t < 1.0 for t in clf.thresholds.values())
    assert clf.config.base_encoder is not None and len(clf.config.base_encoder["source_sha256"]) == 64


@pytest.mark.parametrize(("lang", "text", "expected"), CLEAR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLEAR_CASES)])
def test_clear_multilingual_cases(clf, lang, text, expected):
    assert clf.predict(text).labels == expected


def test_long_document_keeps_a_threat_named_at_its_end(clf):
    filler = "The council discussed the new bus timetable and the cost of repairing the library roof. " * 40
    threat = "Separately, hackers defaced the election commission website and posted fake results."
    scores = clf.predict_proba([filler, filler + threat])
    label = clf.labels.index("cyberattack")
    assert scores[1, label] > clf.thresholds["cyberattack"] > scores[0, label]


def test_predictions_are_deterministic(clf):
    texts = [text for _, text, _ in CLEAR_CASES]
    np.testing.assert_array_equal(clf.predict_proba(texts), clf.predict_proba(texts))
