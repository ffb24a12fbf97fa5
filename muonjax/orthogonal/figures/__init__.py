"""Figures and fit summaries of Part B.

One module per experiment, each with ``summary(table)`` (a
:class:`muonjax.FitSummary`) and ``figure(table)`` (a matplotlib figure), computed
from the records alone, so ``muonjax plot DIR`` redraws and refits without running
anything: :mod:`.groups` (``orth_groups``), :mod:`.scaling` (``orth_scaling``),
:mod:`.signgd` (``orth_signgd``). :mod:`.results` draws measurement results instead
of records; :mod:`.style` holds what they share.

Use the names from :mod:`muonjax.orthogonal` (``groups_summary``, ``groups_figure``,
...).
"""
