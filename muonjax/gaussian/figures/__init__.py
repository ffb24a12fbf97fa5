"""The figures of Part A (Kim et al. 2026): records in, fit summary and figure out.

One module per figure, each with ``summary(source) -> FitSummary`` (fits, verdicts
against :mod:`muonjax.theory`, findings in words), ``figure(source)`` (a matplotlib
``Figure``) and ``write(out_dir)`` (both, and any side file, written beside the
records). A source is a records :class:`muonjax.Table` or the output directory of
``muonjax run`` (whose manifest gives the fit settings)::

    from muonjax.gaussian import figures

    figures.fig2.summary("runs/fig2-quick").rows
    figures.fig2.figure(mj.read_table("runs/fig2-quick")).savefig("fig2.png")

- :mod:`~muonjax.gaussian.figures.fig1` (capacity against alpha; B* against d),
  :mod:`~muonjax.gaussian.figures.fig2` (one population step, two-stage fit),
  :mod:`~muonjax.gaussian.figures.fig2_ns` (Newton-Schulz against exact Muon),
  :mod:`~muonjax.gaussian.figures.fig3` (one minibatch step against B),
  :mod:`~muonjax.gaussian.figures.fig4` (T Muon steps, long runs),
  :mod:`~muonjax.gaussian.figures.fig5` (multi-step Muon against GD),
  :mod:`~muonjax.gaussian.figures.fig6` (anisotropic outputs, Newton);
- :mod:`~muonjax.gaussian.figures.panels` (panels shared by them).
"""

from muonjax.gaussian.analysis.policy import FIGURE_CLAIMS
from muonjax.gaussian.figures import (
    fig1,
    fig2,
    fig2_ns,
    fig3,
    fig4,
    fig5,
    fig6,
    panels,
)
from muonjax.gaussian.figures._common import check_settings

__all__ = [
    "FIGURE_CLAIMS",
    "check_settings",
    "fig1",
    "fig2",
    "fig2_ns",
    "fig3",
    "fig4",
    "fig5",
    "fig6",
    "panels",
]
