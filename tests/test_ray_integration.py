import os
from pathlib import Path

import numpy as np
import pytest

from interference_clf.integrations.ray import RayPredictor

from .conftest import SAMPLE_TEXTS

REPO = Path(__file__).resolve().parent.parent
SCORE_COLUMNS = ["score_cyberattack", "score_disinformation", "score_espionage"]


def test_dict_batches_gain_labels_scores_and_errors(tiny_classifier_folder, tiny_classifier):
    predictor = RayPredictor(tiny_classifier_folder, text_column="body", batch_size=4)
    texts = [SAMPLE_TEXTS[0], "  ", None, SAMPLE_TEXTS[6]]
    batch = {"id": np.arange(4), "body": np.array(texts, dtype=object)}
    labelled = predictor(batch)
    assert list(labelled) == ["id", "body", "labels", *SCORE_COLUMNS, "error"]
    assert labelled["labels"].shape == (4,) and labelled["id"] is batch["id"]
    expected = tiny_classifier.predict([texts[0], texts[3]])
    for row, prediction in zip((0, 3), expected):
        assert labelled["labels"][row] == prediction.labels and labelled["error"][row] is None
        scores = [labelled[f"score_{label}"][row] for label in tiny_classifier.labels]
        assert scores == pytest.approx([prediction.scores[label] for label in tiny_classifier.labels], abs=1e-4)
    assert list(labelled["error"][1:3]) == ["text is empty or whitespace only", "text is None, expected a string"]
    assert labelled["labels"][1] == [] and np.isnan(labelled["score_espionage"][2])


def test_dataframe_batches_keep_their_index_and_columns(tiny_classifier_folder):
    pd = pytest.importorskip("pandas", reason="pandas batches need pandas (the ray extra)")
    predictor = RayPredictor(tiny_classifier_folder)
    frame = pd.DataFrame({"text": SAMPLE_TEXTS, "lang": list("efdrurazx")[: len(SAMPLE_TEXTS)]}, index=range(10, 18))
    labelled = predictor(frame)
    assert list(labelled.index) == list(frame.index) and labelled["lang"].tolist() == frame["lang"].tolist()
    assert labelled["error"].isna().all() and labelled[SCORE_COLUMNS].notna().all().all()


def test_a_missing_text_column_is_named(tiny_classifier_folder):
    with pytest.raises(KeyError, match="no 'text' column"):
        RayPredictor(tiny_classifier_folder)({"body": np.array(["x"])})


def test_map_batches_over_parquet_on_a_local_ray(tiny_classifier_folder, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'interference-clf[ray]')")
    pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'ray[data]')")
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [SAMPLE_TEXTS[i % 8] if i % 5 else "" for i in range(30)]
    pq.write_table(pa.table({"id": list(range(30)), "text": texts}), tmp_path / "in.parquet")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network here
    # A cluster on this machine (Ray dropped local_mode): one CPU for reading, one for the model's actor.
    worker_env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                  "OMP_NUM_THREADS": "1"}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": worker_env})
    try:
        dataset = ray.data.read_parquet(str(tmp_path / "in.parquet")).map_batches(
            RayPredictor,
            fn_constructor_kwargs={"model_path": str(tiny_classifier_folder), "text_column": "text"},
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=8,
        )
        rows = sorted(dataset.take_all(), key=lambda row: row["id"])
    finally:
        ray.shutdown()
    assert [row["id"] for row in rows] == list(range(30))
    for row in rows:
        if row["id"] % 5:
            assert row["error"] is None and set(row["labels"]) <= {"cyberattack", "disinformation", "espionage"}
        else:
            assert row["error"] == "text is empty or whitespace only" and len(row["labels"]) == 0
