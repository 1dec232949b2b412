"""Baselines trained on the same train split, thresholds tuned on the same dev split."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from interference_clf.calibration import fit_thresholds


def _one_vs_rest(c: float) -> OneVsRestClassifier:
    return OneVsRestClassifier(LogisticRegression(C=c, max_iter=3000, class_weight="balanced"))


def tfidf_char_scores(texts: dict[str, list[str]], labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Character n-gram TF-IDF + one-vs-rest logistic regression; scores for every set."""
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300_000)
    features = vectoriser.fit_transform(texts["train"])
    model = _one_vs_rest(c=10.0).fit(features, labels["train"])
    return {name: model.predict_proba(vectoriser.transform(t)) for name, t in texts.items()}


def frozen_e5_scores(embeddings: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean-pooled frozen e5 embeddings + one-vs-rest logistic regression; scores for every set."""
    model = _one_vs_rest(c=10.0).fit(embeddings["train"], labels["train"])
    return {name: model.predict_proba(e) for name, e in embeddings.items()}


def dev_thresholds(scores: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> np.ndarray:
    return fit_thresholds(labels["dev"], scores["dev"])
