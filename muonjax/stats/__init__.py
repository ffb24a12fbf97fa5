"""The statistics layer (SPEC Part D): fits, the bootstrap over seeds, verdicts.

- :mod:`~muonjax.stats.fit`: power laws, exponentials, loss slopes, per-step
  exponents, the two-stage fit and the broken power law, each with a percentile
  bootstrap over seeds.
- :mod:`~muonjax.stats.verdict`: the one :class:`~muonjax.stats.verdict.Comparison`
  and verdict rule (consistent / inconsistent / inconclusive).
- :mod:`~muonjax.stats.summary`: the fit summary every figure writes.
"""
