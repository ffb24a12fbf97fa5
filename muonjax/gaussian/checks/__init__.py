"""Part A's check catalogue: the claims of SPEC A.5 put to numerical tests.

Each check measures through the sweep engine (:func:`muonjax.run_sweep` over the
cells of :mod:`muonjax.gaussian.cells`, root key ``jax.random.key(0)``), fits with
the analyses the figures use (:mod:`muonjax.gaussian.analysis`) and compares with
:mod:`muonjax.theory` (:mod:`muonjax.stats.verdict`); it is registered with
:func:`muonjax.register_check` at import and run by ``muonjax check``. A check and a
figure of the same claim at the same sizes and seeds therefore measure the same
tasks (the cells' task key is ``(n, d, alpha, dtype)``) and get the same counts,
seed for seed: ``muon_one_step_exponent`` at ``n``, ``dims``, ``seeds`` sees the
tasks of ``muonjax run fig2`` with those settings. Cells measured once in a run are
shared by every check that needs them (:class:`CellCache`).

Precision, as in the figures: the task and the capacity pass are float32, the
gradient, the update and Newton's preconditioner float64 (inside
``jax.enable_x64``), because the population gradient's singular values follow the
power law and fall below float32's resolution (relative ``~1e-7``, and the polar
factor's default cut ``max(d) * eps``) at moderate ``d``: at ``alpha = 2``,
``d = 256`` a float32 Muon step keeps only ~135 of 256 directions and recovers 192
items instead of 296 (measured, N = 20,000). Each one-step measurement records the
``rank`` of ``W_1``, so that such a cut would show (and its point is excluded).

References:
    SPEC A.5 (predictions), Part D (fits and verdicts); Kim et al. (2026),
    Figures 1-3.
"""

# isort: off
# Imported in the catalogue's order: each module registers its checks at import.
from muonjax.gaussian.checks import onestep, smoothing, minibatch

# isort: on
from muonjax.gaussian.checks.ledger import CLAIMS, LEDGER, claim_ledger
from muonjax.gaussian.checks.measure import (
    PRECISION,
    CellCache,
    measure,
    one_step_table,
)

__all__ = [
    "CLAIMS",
    "LEDGER",
    "PRECISION",
    "CellCache",
    "claim_ledger",
    "measure",
    "minibatch",
    "one_step_table",
    "onestep",
    "smoothing",
]
