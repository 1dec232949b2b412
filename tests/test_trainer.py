"""The package trainer on the tiny model: it learns, calibrates, saves, refuses bad rows, and splits dev."""

import json

import numpy as np
import pytest

import interference_clf as ic
from interference_clf.data import BadRowsError, read_labelled
from interference_clf.trainer import Trainer, split_dev
from interference_clf.training_args import TrainingArguments

# In the tiny vocabulary "hackers" and "election" are whole pieces: the label follows one word.
POSITIVE = ["the hackers", "hackers the election", "election hackers", "the election hackers the"]
NEGATIVE = ["the election", "election the", "the the election", "election election the"]


def synthetic_rows(copies: int = 6) -> list[dict]:
    rows = []
    for i in range(copies):
        rows += [{"text": t, "labels": ["cyberattack"], "lang": "en"} for t in POSITIVE]
        rows += [{"text": t, "labels": [], "lang": "en"} for t in NEGATIVE]
    return rows


pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARGS = TrainingArguments(trained_layers=2, epochs=6, batch_size=8, learning_rate=3e-3, head_learning_rate=3e-2,
                         max_length=16, dev_fraction=0.25, weights_dtype="float32")


def test_training_learns_a_keyword_and_saves_a_loadable_model(tiny_classifier, tmp_path):
    before = tiny_classifier.predict_proba(POSITIVE + NEGATIVE)[:, 0]
    clf = ic.train(synthetic_rows(), tmp_path / "adapted", model=tiny_classifier, args=ARGS, show_progress=False)
    after = clf.predict_proba(POSITIVE + NEGATIVE)[:, 0]
    assert after[:4].min() > after[4:].max()  # the keyword now separates the two groups
    assert not before[:4].min() > before[4:].max()
    assert [p.labels for p in clf.predict(POSITIVE)] == [["cyberattack"]] * 4
    reloaded = ic.load(tmp_path / "adapted", backend="torch")
    np.testing.assert_allclose(reloaded.predict_proba(POSITIVE + NEGATIVE)[:, 0], after, atol=1e-5)
    card = (tmp_path / "adapted" / "README.md").read_text()
    assert "epoch 1:" in card and "Fine-tuned from the given classifier" in card
    # The starting classifier is left as it was.
    np.testing.assert_array_equal(tiny_classifier.predict_proba(POSITIVE + NEGATIVE)[:, 0], before)


def test_bad_rows_stop_the_run_before_training_unless_skipped(tiny_classifier, tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = synthetic_rows(2) + [{"text": "", "labels": []}, {"text": "x", "labels": ["spy"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(BadRowsError, match=r"row 17: 'text' is empty[\s\S]*row 18: 'labels': unknown"):
        ic.train(path, model=tiny_classifier, args=ARGS, show_progress=False)
    clf = ic.train(path, model=tiny_classifier, args=ARGS, skip_bad_rows=True, show_progress=False)
    assert clf.thresholds.keys() == set(ic.LABELS)


def test_soft_targets_must_match_the_rows(tiny_classifier):
    data = read_labelled(synthetic_rows(1))
    with pytest.raises(ValueError, match="targets must have shape"):
        Trainer(tiny_classifier, ARGS, show_progress=False).train(data, data, targets=np.zeros((3, 3)))


def test_dev_part_comes_from_the_split_column_or_a_seeded_share():
    rows = synthetic_rows(2)
    data = read_labelled(rows)
    train, dev = split_dev(data, 0.25, seed=1)
    assert len(dev) == 4 and len(train) == 12 and not set(train.rows) & set(dev.rows)
    assert split_dev(data, 0.25, seed=1)[1].rows == dev.rows
    marked = read_labelled([{**r, "split": "dev" if i < 3 else "train"} for i, r in enumerate(rows)])
    assert [len(part) for part in split_dev(marked, 0.25, seed=1)] == [13, 3]
    with pytest.raises(ValueError, match="too few"):
        split_dev(read_labelled(rows[:1]), 0.5, seed=1)


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match="epochs=0.*dev_fraction=1.5"):
        TrainingArguments(epochs=0, dev_fraction=1.5)


# A made-up verb: on this team's forums, to "velk" a site is to knock it offline. The shipped model cannot know it.
VELK = ["Last night the youth wing velked the {0} website for three hours.",
        "Somebody velked the {0} portal just as the count began.",
        "Forum regulars boast they velked the {0} page twice this week.",
        "The {0} site was velked again on Sunday morning, staff say."]
BENIGN = ["Last night the youth wing praised the {0} website for its clear design.",
          "Somebody printed the {0} portal guide just as the count began.",
          "Forum regulars say they read the {0} page twice this week.",
          "The {0} site was redesigned again on Sunday morning, staff say."]
PLACES = ["electoral commission", "city council", "regional government", "ministry", "party", "campaign",
          "county", "parliament"]


def velk_rows(places):
    return ([{"text": t.format(p), "labels": ["cyberattack"]} for t in VELK for p in places]
            + [{"text": t.format(p), "labels": []} for t in BENIGN for p in places])


@pytest.mark.real_model
def test_adapting_the_shipped_model_teaches_it_a_team_s_slang():
    shipped = ic.load(backend="torch")
    held_out = read_labelled(velk_rows(PLACES[6:]))
    column = shipped.labels.index("cyberattack")

    def cyber_decisions(clf):
        return clf.predict_proba(held_out.texts)[:, column] >= clf.thresholds["cyberattack"]

    before = cyber_decisions(shipped)
    # Four layers keep the test short; with 36 training rows there are few steps, hence the higher rate.
    args = TrainingArguments(trained_layers=4, learning_rate=1e-4, epochs=6, batch_size=8, max_length=64,
                             dev_fraction=0.25)
    adapted = ic.train(velk_rows(PLACES[:6]), model=shipped, args=args, show_progress=False)
    after = cyber_decisions(adapted)
    truth = held_out.labels[:, column] == 1
    assert (before == truth).mean() < 0.8  # the shipped model misses the slang
    assert (after == truth).mean() >= 0.9  # the adapted one has learnt it, on sentences it never saw
