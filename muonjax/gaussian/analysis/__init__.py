"""Analyses of Part A's records, one module per question (tables in, estimates out).

- :mod:`~muonjax.gaussian.analysis.tables`: slicing the records (groups, seeds).
- :mod:`~muonjax.gaussian.analysis.onestep`: one population step (Figures 1a, 2, 6).
- :mod:`~muonjax.gaussian.analysis.ridge`: how much of the Hessian lies below
  Newton's ridge (Figures 2, 6).
- :mod:`~muonjax.gaussian.analysis.critical_curves` and
  :mod:`~muonjax.gaussian.analysis.critical`: the critical batch size (Figures 1b, 3).
- :mod:`~muonjax.gaussian.analysis.multistep`: several steps (Figures 4 and 5).

No module here plots, writes a file or runs a sweep: the figures
(:mod:`muonjax.gaussian.figures`) and the checks (:mod:`muonjax.gaussian.checks`)
call these on records.
"""
