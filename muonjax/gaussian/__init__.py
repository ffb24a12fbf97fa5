"""The Gaussian associative memory (SPEC Part A; Kim, Nichani, Wu, Bietti, Lee 2026).

N associations with Gaussian embeddings ``u_i, v_i`` in ``R^d`` and power-law
frequencies; a memory ``W`` scores candidate ``j`` for query ``i`` as
``s_ij = v_j^T W u_i``. The modules follow the data:

- :mod:`~muonjax.gaussian.task` (A.1), :mod:`~muonjax.gaussian.scores` (A.2: loss and
  gradient in blocks), :mod:`~muonjax.gaussian.metrics` (A.4: capacity),
  :mod:`~muonjax.gaussian.updates` (A.3: Newton), :mod:`~muonjax.gaussian.loop`;
- :mod:`~muonjax.gaussian.schedules` and :mod:`~muonjax.gaussian.rules` (the one
  rule grammar: a rule name -> an optax transform and its schedule);
- :mod:`~muonjax.gaussian.cells` (sweep cells and the sweeps built from them);
- :mod:`~muonjax.gaussian.analysis` (one module per question, tables in, estimates
  out);
- :mod:`~muonjax.gaussian.figures` (one module per figure: ``summary``, ``figure``);
- :mod:`~muonjax.gaussian.checks` (the check catalogue, measured through the sweep
  engine with the figures' cells).

The public names are re-exported flat from :mod:`muonjax`.
"""
