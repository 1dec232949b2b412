import numpy as np

from interference_clf.data import read_labelled
from training.distil import recombined_texts, student_of

ROWS = [
    {"text": "Hackers hit the portal. It was down for hours.", "labels": ["cyberattack"], "lang": "en"},
    {"text": "The mayor opened a school. Pupils sang.", "labels": [], "lang": "en"},
    {"text": "Bots spread a fake poll. Nobody checked it.", "labels": ["disinformation"], "lang": "en"},
    {"text": "Un espion a été arrêté. Il payait un conseiller.", "labels": ["espionage"], "lang": "fr"},
    {"text": "Le marché a rouvert. Les fleurs se vendent bien.", "labels": [], "lang": "fr"},
]


def test_recombined_texts_join_sentences_of_different_passages_in_one_language():
    data = read_labelled(ROWS)
    texts = recombined_texts(data, 40, seed=3)
    assert len(texts) == 40 and texts == recombined_texts(data, 40, seed=3)
    source = {}
    for row in ROWS:
        for sentence in row["text"].split(". "):
            source[sentence.rstrip(".") + "."] = (row["text"], row["lang"])
    for text in texts:
        parts = [part if part.endswith(".") else part + "." for part in text.split(". ")]
        origins = [source[part] for part in parts]
        assert 2 <= len(parts) <= 3
        assert len({passage for passage, _ in origins}) == len(parts)  # each sentence from another passage
        assert len({lang for _, lang in origins}) == 1


def test_the_student_keeps_only_the_chosen_layers_and_leaves_the_teacher_whole(tiny_classifier):
    texts = ["Hackers broke into the election servers.", "Sunny today."]
    before = tiny_classifier.predict_proba(texts)
    student = student_of(tiny_classifier, [1])
    assert len(student.model.encoder.encoder.layer) == 1 and student.config.encoder_layers == [1]
    assert len(tiny_classifier.model.encoder.encoder.layer) == 2
    np.testing.assert_array_equal(tiny_classifier.predict_proba(texts), before)
    assert student.predict_proba(texts).shape == before.shape
