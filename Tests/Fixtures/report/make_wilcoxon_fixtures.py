"""Regenerates wilcoxon.json: scipy.stats.wilcoxon(x, y) (defaults: zero_method="wilcox", correction=False,
method="auto") on paired samples that exercise each of scipy's methods: exact (n <= 50, no ties or zeros),
a permutation over all sign flips (ties or zeros, n <= 13) and the normal approximation (ties or zeros with
n > 13, or n > 50). The numbers are fixed by a seeded generator; run with scipy >= 1.13 (written with 1.17.1)."""
import json
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(13)
cases = []

def add(name, x, y, method):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    r = stats.wilcoxon(x, y)
    cases.append({"name": name, "x": x, "y": y, "statistic": float(r.statistic), "pvalue": float(r.pvalue), "method": method})

# exact: continuous values, no ties, no zeros
x = np.round(rng.normal(80, 5, 12), 4); y = np.round(x + rng.normal(1.0, 2.0, 12), 4)
add("exact12", x, y, "exact")
x = np.round(rng.normal(70, 8, 40), 4); y = np.round(x - rng.normal(0.8, 1.5, 40), 4)
add("exact40", x, y, "exact")
add("exact5_all_positive", [5, 6.5, 8, 9.5, 11], [1, 2, 3, 4, 5], "exact")
# permutation: ties (equal absolute differences) and a zero, n <= 13
add("permutation_ties", [80, 82, 81, 79, 85, 83, 77, 90], [79, 81, 83, 79, 84, 80, 78, 86], "permutation")
add("permutation_zero", [1.5, 2.0, 3.25, 4.0, 5.5, 6.0], [1.0, 2.0, 2.0, 4.5, 5.0, 4.0], "permutation")
# asymptotic: ties with n > 13, and n > 50
x = np.round(rng.normal(75, 6, 30), 1); y = np.round(x + rng.choice([-1.0, -0.5, 0.5, 1.0, 1.5], 30), 1)
add("asymptotic_ties30", x, y, "asymptotic")
x = np.round(rng.normal(85, 4, 144), 4); y = np.round(x + rng.normal(0.3, 1.2, 144), 4)
add("asymptotic144", x, y, "asymptotic")

with open("wilcoxon.json", "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases}, f, indent=1)
    f.write("\n")
