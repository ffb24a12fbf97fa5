"""The claims of SPEC B.3, one module per theorem group.

Each module holds, for its claims, the measurement (``measure_*``: runs the dynamics
in float64 and returns a frozen dataclass of numpy arrays), and the rows that compare
it with :mod:`muonjax.theory` (``*_outcome(result)``: estimate, interval,
prediction and verdict through :mod:`muonjax.stats`). The check catalogue
(:mod:`muonjax.orthogonal.checks`) and ``result.comparisons()`` both use these rows,
so a claim has one fit policy.

- :mod:`.noiseless`: Thms 4.1 (GD) and 4.2 (Muon) without label noise;
- :mod:`.noisy`: Thm 5.1 (Muon with label noise);
- :mod:`.stability`: Prop. 5.4 (GD's stability edge);
- :mod:`.scaling`: Thms 5.7 and 5.8 (scaling laws in ``T``);
- :mod:`.symmetry`: Prop. 6.1 (block symmetry, through the sweep engine) and the
  preconditioner bound of Sec. 6;
- :mod:`.signs`: Thm 6.3 (TRA-SignGD) and SignGD in a random basis (through the
  sweep engine).

Use the names from :mod:`muonjax.orthogonal`.
"""
