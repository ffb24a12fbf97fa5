"""The generic engine: sweeps, records, the registries of experiments and checks.

No science lives here (nothing imports a family: :mod:`muonjax.gaussian`,
:mod:`muonjax.orthogonal`, :mod:`muonjax.transformer`); the families build on it.

- :mod:`~muonjax.engine.sweep`: a grid of configurations times seeds, vmapped,
  chunked and sharded, with the one cell-key derivation (SPEC E).
- :mod:`~muonjax.engine.table`, :mod:`~muonjax.engine.records`,
  :mod:`~muonjax.engine.parts`: the tidy table, the manifest, the resume store and
  ``environment()``.
- :mod:`~muonjax.engine.registry`: experiments and checks, and ``run_recorded``.
- :mod:`~muonjax.engine.checks`: running the check catalogue and its reports.
"""
