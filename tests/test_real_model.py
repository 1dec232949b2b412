"""The real shipped models, each loaded once: clear multilingual cases must come out right."""

import subprocess
import sys

import numpy as np
import pytest

import interference_clf as ic
from interference_clf.shipped import STUDENT, shipped_models
from training.corpus import read_records

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
    # Acts, not topics: an intelligence chief on geopolitics and "propaganda" as an insult are none.
    ("en", "The head of the foreign intelligence service told the committee he expects the war to last "
           "another two years.", []),
    ("de", "Der Abgeordnete nannte die Rede seines Gegners reine Propaganda und verließ den Saal.", []),
]


@pytest.fixture(scope="module", params=sorted(shipped_models()))
def model_name(request):
    return request.param


@pytest.fixture(scope="module")
def clf(model_name):
    """The fp32 reference path."""
    return ic.load(model_name, backend="torch")


@pytest.fixture(scope="module")
def default_clf(model_name):
    """What users get by default: ONNX Runtime int8 when installed."""
    return ic.load(model_name)


def test_shipped_model_loads_with_its_spec(clf):
    assert clf.labels == ic.LABELS
    assert all(0.0 < t < 1.0 for t in clf.thresholds.values())
    assert clf.config.base_encoder is not None and len(clf.config.base_encoder["source_sha256"]) == 64


@pytest.mark.parametrize(("lang", "text", "expected"), CLEAR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLEAR_CASES)])
def test_clear_multilingual_cases(clf, lang, text, expected):
    assert clf.predict(text).labels == expected


FILLER = "The council discussed the new bus timetable and the cost of repairing the library roof. " * 40
THREAT_PARAGRAPH = (
    "\n\nElection officials confirmed on Monday that hackers had broken into the commission's servers overnight. "
    "The intruders defaced the results website, replaced the turnout figures with invented numbers and locked staff "
    "out of their accounts; the national CERT is investigating and the site was restored by noon."
)


def known_student_miss(request, model_name, reason):
    """The student ships by name only because it misses cases like these; strict, so a fixed one is noticed."""
    if model_name == STUDENT:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


def test_long_text_keeps_a_threat_paragraph_at_its_end(clf, model_name, request):
    # The student scores this paragraph 0.03 when it shares a window with 190 tokens of unrelated text.
    known_student_miss(request, model_name, "the student misses a threat paragraph diluted in its window")
    # Far past one window: without windowing the last paragraph would be cut off.
    assert clf.text_encoder.count_tokens(FILLER + THREAT_PARAGRAPH) > 2 * clf.config.max_length
    scores = clf.predict_proba([FILLER, FILLER + THREAT_PARAGRAPH])
    label = clf.labels.index("cyberattack")
    assert scores[1, label] > clf.thresholds["cyberattack"] > scores[0, label]


def test_document_mode_finds_a_one_sentence_threat_in_a_long_text(clf, model_name, request):
    # The student scores the passage holding this sentence 0.10, under its cyberattack threshold of 0.76.
    known_student_miss(request, model_name, "the student misses this one-sentence defacement report")
    # A single sentence weighs little in a 256-token window; passages isolate it.
    text = FILLER + "Separately, hackers defaced the election commission website and posted fake results."
    document = clf.predict_documents([text])[0]
    assert "cyberattack" in document.labels
    last = document.passages[-1]
    assert "cyberattack" in last.labels and "hackers defaced" in text[last.start : last.end]


@pytest.mark.parametrize(("lang", "text", "expected"), CLEAR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLEAR_CASES)])
def test_default_backend_gives_the_same_labels(default_clf, clf, lang, text, expected):
    assert default_clf.predict(text).labels == clf.predict(text).labels == expected
    # int8 weights move scores; on clear cases by less than this (measured max 0.53 on hard real text).
    assert np.abs(default_clf.predict_proba([text]) - clf.predict_proba([text])).max() < 0.15


def test_int8_gives_the_fp32_label_sets_on_the_corpus_dev_split(default_clf, clf):
    """Quantisation may move scores near a threshold, but few decisions.

    The aim was the same label sets on 99 % of the corpus dev split; on a 2-core AVX2 CPU the shipped
    models reach 98.0 % (teacher) and 97.5 % (student): benchmarks/inference_speed.py reports it.
    """
    texts = [row["text"] for row in read_records() if row["split"] == "dev"]
    assert default_clf.backend.name == "onnx-int8" and len(texts) >= 900
    int8, fp32 = default_clf.predict(texts), clf.predict(texts)
    assert np.mean([a.labels == b.labels for a, b in zip(int8, fp32)]) >= 0.97


def test_predictions_are_deterministic(clf):
    texts = [text for _, text, _ in CLEAR_CASES]
    np.testing.assert_array_equal(clf.predict_proba(texts), clf.predict_proba(texts))


def test_the_default_model_predicts_without_importing_torch():
    ic.load()  # builds the ONNX export into the cache if it is missing (that needs torch)
    code = ("import sys, interference_clf as ic; clf = ic.load(); "
            "p = clf.predict('Hackers defaced the election commission website.', evidence=True); "
            "print(clf.backend.name, p.labels, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx-int8", "['cyberattack']", "False", "False"]
