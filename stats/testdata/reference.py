#!/usr/bin/python3
"""Reference values for package stats, computed with SciPy and NumPy.

Run from this folder: /usr/bin/python3 reference.py > reference.json
(SciPy 1.10.1, NumPy 1.24.2 made the committed file.)

Each case is a pair of per-item score vectors (candidate, incumbent). For
each, SciPy gives the paired t-test (one-sided, "greater"), the paired
standard error, the 95 % t interval of the mean difference, and the exact
one-sided sign-flip permutation p-value (scipy.stats.permutation_test,
permutation_type="samples", n_resamples=inf) where 2^n is small enough to
enumerate. Where it is not, the exact p-value comes from two independent
NumPy computations: a polynomial convolution over a lattice (scores that are
means over K samples), or a meet-in-the-middle count over all 2^m sign
assignments (arbitrary values).
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261204)


def binary_means(n, k, pa, pb):
    """Per-item means over k binary samples, candidate correlated with incumbent."""
    base = rng.random(n)
    a = (rng.random((n, k)) < np.clip(base[:, None] * 0 + pa, 0, 1)).mean(axis=1)
    b = (rng.random((n, k)) < np.clip(base[:, None] * 0 + pb, 0, 1)).mean(axis=1)
    return a, b


def exact_scipy(d):
    res = stats.permutation_test((d,), lambda x: np.sum(x), permutation_type="samples",
                                 alternative="greater", n_resamples=np.inf)
    return float(res.pvalue)


def exact_lattice(d, k):
    """P(sum of random signs * |d| >= sum d) for d on the lattice 1/k."""
    ints = [int(round(abs(x) * k)) for x in d if round(abs(x) * k) != 0]
    obs = int(round(sum(d) * k))
    poly = np.array([1.0])  # coefficients of x^(t + offset)
    for m in ints:
        term = np.zeros(2 * m + 1)
        term[0] = term[-1] = 0.5
        poly = np.convolve(poly, term)
    total = sum(ints)
    ts = np.arange(-total, total + 1)
    return float(poly[ts >= obs].sum())


def exact_mitm(d):
    """All 2^m sign assignments of the nonzero |d|, split in two halves."""
    v = np.array([abs(x) for x in d if abs(x) > 1e-12])
    obs = float(np.sum(d))
    h = len(v) // 2

    def sums(part):
        s = np.zeros(1)
        for x in part:
            s = np.concatenate([s + x, s - x])
        return s

    left, right = sums(v[:h]), np.sort(sums(v[h:]))
    tol = 1e-9 * (1 + abs(obs))
    # count pairs left + right >= obs - tol
    idx = np.searchsorted(right, obs - tol - left, side="left")
    hits = np.sum(len(right) - idx)
    return float(hits) / float(2 ** len(v))


def case(name, a, b, lattice_k=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = a - b
    t = stats.ttest_rel(a, b, alternative="greater")
    two = stats.ttest_rel(a, b)
    ci = two.confidence_interval(0.95)
    nz = int(np.sum(np.abs(d) > 1e-12))
    out = {
        "name": name,
        "candidate": a.tolist(),
        "incumbent": b.tolist(),
        "mean": float(d.mean()),
        "se": float(stats.sem(d)),
        "t": float(t.statistic),
        "t_p_greater": float(t.pvalue),
        "ci95": [float(ci.low), float(ci.high)],
        "nonzero": nz,
    }
    if len(d) <= 18:
        out["signflip_p"] = exact_scipy(d)
        # The NumPy methods used for larger cases agree with SciPy here.
        assert abs(exact_mitm(d) - out["signflip_p"]) < 1e-12, name
        if lattice_k is not None:
            assert abs(exact_lattice(d, lattice_k) - out["signflip_p"]) < 1e-12, name
        out["signflip_ref"] = "scipy.stats.permutation_test (exact)"
    elif lattice_k is not None:
        out["signflip_p"] = exact_lattice(d, lattice_k)
        out["signflip_ref"] = "numpy convolution over the lattice 1/%d (exact)" % lattice_k
    else:
        out["signflip_p"] = exact_mitm(d)
        out["signflip_ref"] = "numpy meet-in-the-middle over 2^%d assignments (exact)" % nz
    return out


cases = []
# K = 1, binary rewards, 12 items: a small val slice.
cases.append(case("binary_n12", [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1], [0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1], 1))
# K = 4 means, 16 items, a real gain; SciPy enumerates 2^16.
a, b = binary_means(16, 4, 0.6, 0.35)
cases.append(case("k4_n16_gain", a, b, 4))
# K = 8 means, 48 items (the demo's selection slice), a small gain.
a, b = binary_means(48, 8, 0.36, 0.33)
cases.append(case("k8_n48_small_gain", a, b, 8))
# K = 8 means, 48 items, a clear gain.
a, b = binary_means(48, 8, 0.5, 0.3)
cases.append(case("k8_n48_clear_gain", a, b, 8))
# K = 8 means, 48 items, a loss.
a, b = binary_means(48, 8, 0.2, 0.3)
cases.append(case("k8_n48_loss", a, b, 8))
# Arbitrary values in [0, 1] (partial credit), 10 items: enumeration.
cases.append(case("partial_n10", rng.random(10).round(6), rng.random(10).round(6) * 0.8))
# Arbitrary values, 30 items: beyond enumeration and off any lattice.
x = rng.random(30)
cases.append(case("partial_n30", (x + rng.normal(0.06, 0.2, 30)).clip(0, 1).round(9), x.round(9)))
# Many ties: only three items differ.
cases.append(case("ties_n20", [0.5] * 17 + [1, 1, 0.75], [0.5] * 17 + [0.75, 0.5, 1], 4))

json.dump({"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
