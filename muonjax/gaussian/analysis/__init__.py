"""Analyses of Part A's records, one module per question (tables in, estimates out).

- :mod:`~muonjax.gaussian.analysis.onestep`: one population step (Figures 2 and 6).
- :mod:`~muonjax.gaussian.analysis.critical`: the critical batch size (Figures 1, 3).
- :mod:`~muonjax.gaussian.analysis.multistep`: several steps (Figures 4 and 5).
"""
