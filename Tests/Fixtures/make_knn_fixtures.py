#!/usr/bin/env python3
"""Regenerates the kNN fixtures under Tests/Fixtures/knn/: scikit-learn's answer to the paper's kNN.

Requirements: python3 with numpy, scipy and scikit-learn (`pip install numpy scipy scikit-learn`; written with
scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1). The Swift tests only read the files written here.

    python3 Tests/Fixtures/make_knn_fixtures.py

The paper (MEDMNIST.md §1.5): NearestNeighbors(n_neighbors=11, algorithm='ball_tree') on raw float32 features
(scikit-learn computes in float64), the training split as support; scipy.stats.mode over the neighbours'
labels (ties to the smallest label) for single-label tasks, per-label mean > 0.5 for multi-label ones.

Writes, for a single-label case (5 classes) and a multi-label case (4 labels):
  {case}_support.npy [N, D] float32, {case}_labels.npy [N, L] int64, {case}_queries.npy [M, D] float32,
  {case}_distances.npy [M, 11] float64 (scikit-learn's), {case}_predictions.npy [M, L] int64,
  {case}_query_labels.npy [M, L] int64, and cases.json with accuracy_score as the paper computes it.
"""
import json
import os

import numpy as np
import scipy.stats
import sklearn
from sklearn.metrics import accuracy_score
from sklearn.neighbors import NearestNeighbors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "knn")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(2404)
cases = {"sklearn": sklearn.__version__}


def features(n, centres):
    """ReLU-like features: per-class centres plus noise, a large common offset, some duplicated rows."""
    classes, d = centres.shape
    labels = rng.integers(0, classes, n)
    x = np.maximum(centres[labels] + rng.normal(0, 1.5, (n, d)) + 3.0, 0).astype(np.float32)
    # Duplicates carry their twin's label too: scikit-learn's ball tree orders equal distances arbitrarily
    # (this library orders them by index), and with equal labels the votes cannot depend on that order.
    x[1::9] = x[0::9][: len(x[1::9])]
    labels[1::9] = labels[0::9][: len(labels[1::9])]
    return x, labels


for name, d, multilabel in [("single", 48, False), ("multi", 24, True)]:
    centres = rng.normal(0, 0.6, (5, d))
    support, classes = features(600, centres)
    queries, query_classes = features(150, centres)
    if multilabel:
        labels = np.stack([(classes % 4 == l) | (classes == 4) for l in range(4)], 1).astype(np.int64)
        query_labels = np.stack([(query_classes % 4 == l) | (query_classes == 4) for l in range(4)], 1).astype(np.int64)
    else:
        labels = classes[:, None].astype(np.int64)
        query_labels = query_classes[:, None].astype(np.int64)
    queries[0] = support[3]
    knn = NearestNeighbors(n_neighbors=11, algorithm="ball_tree").fit(support)
    distances, indices = knn.kneighbors(queries)
    neighbour_labels = labels[indices]  # [M, 11, L]
    if multilabel:
        predictions = (neighbour_labels.mean(axis=1) > 0.5).astype(np.int64)
        acc = float(np.mean([accuracy_score(query_labels[:, l], predictions[:, l]) for l in range(4)]))
    else:
        predictions = scipy.stats.mode(neighbour_labels[:, :, 0], axis=1, keepdims=False).mode[:, None].astype(np.int64)
        acc = float(accuracy_score(query_labels[:, 0], predictions[:, 0]))
    for key, array in [("support", support), ("labels", labels), ("queries", queries), ("distances", distances),
                       ("predictions", predictions), ("query_labels", query_labels)]:
        np.save(os.path.join(OUT, f"{name}_{key}.npy"), array)
    cases[name] = {"acc": acc, "k": 11, "classes": 4 if multilabel else 5}

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1, sort_keys=True)
print(json.dumps(cases))
