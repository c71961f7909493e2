#!/usr/bin/python3
"""A version-1 SLIF blob (the isolation forest's first serialized format: double thresholds,
16-byte nodes, a double path length per node) and a version-2 one (8-byte nodes: float values,
packed links) holding a scikit-learn forest, and
scikit-learn's scores for probe rows. The test reads the blob with the current reader and checks
that it scores as scikit-learn does, so old models stored in ml_models keep working.

Run with Debian's interpreter (scikit-learn 1.2.1) from the repository root:

    /usr/bin/python3 tests/data/detect/generate_iforest_v1.py

Writes tests/data/detect/iforest_v1.slif, iforest_v2.slif and iforest_v1_scores.csv (x0, x1, x2, score = −score_samples).
"""
import os
import struct

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length

OUT = os.path.dirname(os.path.abspath(__file__))


def v1_nodes(tree):
    """Re-lays a fitted sklearn tree with children adjacent; returns (nodes, path lengths, depth)."""
    t = tree.tree_
    nodes, leaf, order = [None], [0.0], [(0, 0, 0)]  # (sklearn node, new index, depth)
    max_depth = 0
    while order:
        src, dst, depth = order.pop()
        if t.children_left[src] == -1:
            nodes[dst] = (float("inf"), 0, dst)
            leaf[dst] = depth + float(_average_path_length([t.n_node_samples[src]])[0])
            max_depth = max(max_depth, depth)
            continue
        left = len(nodes)
        nodes += [None, None]
        leaf += [0.0, 0.0]
        nodes[dst] = (float(t.threshold[src]), int(t.feature[src]), left)
        order.append((t.children_left[src], left, depth + 1))
        order.append((t.children_right[src], left + 1, depth + 1))
    return nodes, leaf, max_depth


def main():
    rng = np.random.default_rng(2026)
    x = rng.normal(size=(200, 3))
    x[:8] += 4.0  # a few outliers
    forest = IsolationForest(n_estimators=7, max_samples=32, contamination=0.05, random_state=5).fit(x)
    all_nodes, all_leaf, offsets, depth = [], [], [], 0
    for est in forest.estimators_:
        nodes, leaf, d = v1_nodes(est)
        base = len(all_nodes)
        offsets.append(base)
        all_nodes += [(thr, f, left + base) for thr, f, left in nodes]
        all_leaf += leaf
        depth = max(depth, d)
    blob = b"SLIF" + struct.pack("<I", 1)
    blob += struct.pack("<iiBdQQiidd", 7, 32, 1, 0.05, 5, 3, 32, depth, -forest.offset_, 0.05)
    blob += struct.pack("<Q", len(offsets)) + struct.pack(f"<{len(offsets)}i", *offsets)
    blob += struct.pack("<Q", len(all_nodes)) + b"".join(struct.pack("<dii", *n) for n in all_nodes)
    blob += struct.pack("<Q", len(all_leaf)) + struct.pack(f"<{len(all_leaf)}d", *all_leaf)
    with open(os.path.join(OUT, "iforest_v1.slif"), "wb") as f:
        f.write(blob)
    # Version 2, the same forest: 8-byte nodes (float value; link = offset to the left child << 2 |
    # feature, 2 being the bit width of the largest feature index; 0 for a leaf, whose value is
    # its path length).
    v2 = b"SLIF" + struct.pack("<I", 2)
    v2 += struct.pack("<iiBdQQiidd", 7, 32, 1, 0.05, 5, 3, 32, depth, -forest.offset_, 0.05)
    v2 += struct.pack("<Q", len(offsets)) + struct.pack(f"<{len(offsets)}i", *offsets)
    v2 += struct.pack("<Q", len(all_nodes))
    for i, (thr, feature, left) in enumerate(all_nodes):
        leaf = left == i
        v2 += struct.pack("<fI", all_leaf[i] if leaf else thr, 0 if leaf else (left - i) << 2 | feature)
    with open(os.path.join(OUT, "iforest_v2.slif"), "wb") as f:
        f.write(v2)
    probes = np.vstack([x[:20], rng.normal(size=(30, 3)) * 2.0])
    scores = -forest.score_samples(probes)
    with open(os.path.join(OUT, "iforest_v1_scores.csv"), "w") as f:
        f.write("x0,x1,x2,score\n")
        for row, s in zip(probes, scores):
            f.write(",".join(repr(float(v)) for v in row) + f",{s!r}\n")


if __name__ == "__main__":
    main()
