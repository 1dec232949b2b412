
import pytest

from training import validate
from training.corpus import read_records, split_for_scenario


@pytest.fixture(scope="module")
def records():
    return read_records()


def test_shipped_corpus_passes_the_validator(records):
    assert validate.corpus_problems(records) == []


def test_card_tables_cover_every_language(records):
    tables = validate.card_tables(records)
    for lang in {r["lang"] for r in records}:
        assert f"| {lang} |" in tables


def good_record(i: int, **changes) -> dict:
    record = {"id": f"en-{i:04d}", "text": f"Passage number {i} about topic {i * 7919 % 1000}.", "lang": "en",
              "labels": [], "register": "news_report", "scenario": f"en-s{i:03d}", "split": "train",
              "hard_negative": True, "_where": f"x:{i}"}
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": ["spying"]}, "bad labels"),
        ({"labels": ["espionage", "cyberattack"]}, "not sorted"),
        ({"lang": "xx"}, "unknown language"),
        ({"register": "tweet"}, "unknown register"),
        ({"split": "holdout"}, "unknown split"),
        ({"hard_negative": None}, "hard_negative"),
        ({"text": "word " * 201}, "over 200"),
        ({"labels": ["espionage"]}, "for none passages only"),
        ({"focus": "intel_mentioned"}, "needs both focus and pair"),
        ({"focus": "gossip", "pair": "en-p001"}, "unknown focus"),
    ],
)
def test_schema_problems_are_reported(changes, message):
    assert any(message in p for p in validate.schema_problems(good_record(1, **changes)))


def test_missing_field_is_reported():
    record = good_record(1)
    del record["scenario"]
    assert "missing fields ['scenario']" in validate.schema_problems(record)[0]


def test_near_duplicates_and_leaking_scenarios_are_found():
    base = "The electoral commission said hackers had tried to break into the voter roll on Sunday night."
    records = [good_record(1, text=base), good_record(2, text=base.replace("Sunday", "Monday")),
               good_record(3, scenario="en-s001", split="test")]
    problems = validate.corpus_problems(records)
    assert any("near duplicates" in p for p in problems)
    assert any("scenario 'en-s001' is in splits ['test', 'train']" in p for p in problems)


def test_minimums_are_enforced():
    problems = validate.corpus_problems([good_record(i) for i in range(5)])
    assert any("fewer than 5000" in p for p in problems)
    assert any("none of ('cs', 'hu') is present" in p for p in problems)
    assert any("0 contrastive passages, fewer than 1200" in p for p in problems)
    assert any("language fr is missing" in p for p in problems)
    assert any("cyberattack: 0 positives" in p for p in problems)


def test_contrastive_pairs_must_be_two_passages_of_one_scenario_with_different_labels():
    act = good_record(1, labels=["espionage"], focus="intel_mentioned", pair="en-p001")
    del act["hard_negative"]
    mention = good_record(2, scenario=act["scenario"], focus="intel_mentioned", pair="en-p001")
    assert validate.contrastive_problems([act, mention])[:1] == ["2 contrastive passages, fewer than 1200"]
    assert "spans two scenarios" in validate.contrastive_problems([act, {**mention, "scenario": "en-s999"}])[0]
    assert "no contrast" in validate.contrastive_problems([act, {**mention, "labels": ["espionage"]}])[0]
    assert "has 1 passages" in validate.contrastive_problems([act])[0]
    labelled = [good_record(i, labels=["espionage"], focus="intel_mentioned", pair=f"en-p{i}") for i in range(3)]
    assert any("0.0% none" in p for p in validate.contrastive_problems(labelled))


def test_near_duplicate_threshold_separates_rewrites_from_new_text():
    pairs = validate.near_duplicate_pairs([
        "Hackers defaced the ministry website on election day.",
        "Hackers defaced the ministry website on election day!",
        "A completely different sentence about the weather in Lisbon.",
    ])
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]


def test_split_is_a_function_of_the_scenario(records):
    for record in records[:200]:
        assert record["split"] == split_for_scenario(record["scenario"])
    shares = [sum(split_for_scenario(f"s{i}") == s for i in range(3000)) / 3000 for s in ("train", "dev", "test")]
    assert shares == pytest.approx([0.70, 0.15, 0.15], abs=0.03)


def test_data_card_tables_are_the_validators_output(records):
    from training.corpus import DATA_DIR

    card = (DATA_DIR.parent / "README.md").read_text(encoding="utf-8")
    assert validate.card_tables(records).strip() in card
