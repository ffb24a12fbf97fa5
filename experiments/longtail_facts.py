"""LLaMA-style pre-training on long-tailed facts: Muon against AdamW (Li et al.).

The last experiment of Li et al. (2026), rebuilt small and offline as SPEC C.2 reads
it [derived: the seed names only "LLaMA-style pre-training" and "tail accuracy"]. A
corpus of ``S`` subjects with frequencies ``p_s ~ s^(-beta)``, ``R`` relations and
one attribute per (subject, relation), written as statements ``first last relation
attribute <sep>`` mixed with bigram filler; a small LLaMA-style decoder (RMSNorm,
rotary embeddings, SwiGLU, untied head) trained on it by

- AdamW on every leaf, and
- Muon (Newton-Schulz, SPEC C.3: 5 quintic steps, Nesterov momentum 0.95, update
  scale ``sqrt(max(1, d_out / d_in))``; ``muon_exact``: the exact polar factor) on
  the attention and feed-forward matrices, AdamW on the embedding, head and gains,

on the same tokens (seed ``k`` fixes the corpus, the initialisation and the token
stream for every optimizer). Each optimizer's learning rate is chosen from its grid
by the lowest held-out loss at the last step; Muon's AdamW leaves use AdamW's
chosen step (``LR_CHOICE_RULE``); every grid value is recorded.

Measured every ``eval_every`` steps: first-token accuracy of the attribute on a
held-out probe ``<sep> first last relation`` for every fact, per log-spaced bucket
of subject frequency; facts learned; held-out loss. Claims (fit summary and checks
``longtail_tail_accuracy``, ``longtail_facts_slope``): Muon's tail-bucket accuracy
is higher at equal steps, and its facts-learned curve is steeper (log-log slope).

Long runs save a checkpoint every ``checkpoint_every`` steps; a killed run started
again with the same command resumes from it and gives the same numbers.

Run: ``muonjax run longtail_facts --preset quick`` (or ``python
experiments/longtail_facts.py``).

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725; SPEC C.2, C.3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import muonjax as mj
from muonjax import transformer as tx
from muonjax.transformer.figures import longtail

#: Both presets are :data:`muonjax.transformer.LONGTAIL_PRESETS` (the checks use the
#: same sizes; see there). Change any setting with ``--set key=value``.
PRESETS = {name: tx.LONGTAIL_PRESETS[name] for name in ("quick", "paper")}


def run(
    config: tx.LongtailConfig,
    out_dir: str | Path,
    *,
    progress: bool = False,
    meta: dict[str, Any] | None = None,
) -> tx.RecordedLongtail:
    """Train (or resume) every (beta, optimizer, lr) and write records and manifest."""
    return tx.record_longtail(config, out_dir, meta=meta, progress=progress)


def plan(config: tx.LongtailConfig) -> tx.LongtailPlan:
    """The cells :func:`run` trains for ``config`` (built, not run)."""
    return tx.LongtailPlan(config)


def plot(out_dir: str | Path) -> list[Path]:
    """The figure and the fit summary, from the records."""
    out = Path(out_dir)
    table = mj.read_table(out)
    mj.write_fit_summary(out, longtail.summary(table))
    return mj.save_figure(longtail.figure(table), out / "longtail_facts")


EXPERIMENT = mj.register_experiment(
    "longtail_facts",
    summary="LLaMA-style pre-training on long-tailed facts: tail accuracy and facts "
    "learned, Muon against AdamW (Li et al. 2026, SPEC C.2)",
    presets=PRESETS,
    run=run,
    plot=plot,
    # Checkpoints only make a killed run resumable; the numbers do not depend on
    # them (tests/transformer/test_checkpoint.py), so they never change a cell.
    presentation=("checkpoint_every",),
    limits={
        "optimizers": ("adamw", "muon", "muon_exact"),
        "update_scale": tx.SCALES,
        "decay": tx.DECAYS,
        "ns_coeffs": ("jordan", "cubic", "quintic", "polar_express"),
    },
)


if __name__ == "__main__":
    raise SystemExit(mj.experiment_main(EXPERIMENT))
