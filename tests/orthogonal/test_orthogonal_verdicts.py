"""Every Part B check can reach each of its three verdicts.

Each check's ``*_outcome`` is fed planted measurements (curves with a known law)
made to be consistent with the claim, inconsistent with it, and unresolvable (a bent
curve, a short range, an open bracket, a spread over bases); the check's verdict (the
combination of its primary rows, as ``muonjax check`` reports it) must come out as
planted. The rows that could not fail by construction before (the stability edge, the
block-symmetry control, Muon below GD at every T) are tested here too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import muonjax as mj
from muonjax import orthogonal as og
from muonjax import theory
from muonjax.orthogonal.claims import stability

VERDICTS = ("consistent", "inconsistent", "inconclusive")


def _verdict(outcome: mj.CheckOutcome) -> str:
    return mj.combine_verdicts(c.verdict for c in outcome.comparisons)


def _power_law_p(m, c, beta):
    w = np.arange(1, m + 1, dtype=np.float64) ** -beta
    return w / w.sum() / c


# Thm 4.1 -----------------------------------------------------------------------------


def _gd_noiseless(kind):
    m, c, steps = 4, 4, 2000
    p = _power_law_p(m, c, 1.5)
    eff = 1.0 / p[0]
    t = np.arange(steps + 1, dtype=np.float64)
    ts = np.maximum(t, 1.0)
    if kind == "consistent":
        law = 1.0 / ts[:, None]
    elif kind == "inconsistent":  # L_g ~ (eta p_g t)^-1.3
        law = (eff * p * ts[:, None]) ** -1.3 * (eff * p)
    else:  # bends from t^-0.7 to t^-1.4 at t = 400: the windows disagree
        law = np.where(ts < 400, (ts / 400) ** -0.7, (ts / 400) ** -1.4)[:, None] / 400
    gl = law / (eff * p)
    loss = gl @ (p * c)
    return og.gd_noiseless_result(
        t,
        gl,
        loss,
        p=p,
        effective_lr=eff,
        learning_rate=eff,
        sizes={"M": m, "C": c, "K": m * c, "steps": steps},
    )


# Thm 4.2 -----------------------------------------------------------------------------


def _muon_noiseless(kind):
    m, k, steps, eta = 4, 16, 600, 0.1
    t = np.arange(steps + 1, dtype=np.float64)
    rate = {
        "consistent": eta * np.ones_like(t),
        "inconsistent": 1.3 * eta * np.ones_like(t),
        "inconclusive": eta * (1 + 0.003 * t),  # the rate drifts across windows
    }[kind]
    gl = k * np.exp(-np.cumsum(rate))[:, None] * np.linspace(0.8, 1.2, m)[None, :]
    return og.muon_noiseless_result(
        t,
        gl,
        gl.mean(axis=1),
        learning_rate=eta,
        effective_lr=eta,
        sizes={"M": m, "C": 4, "K": k, "steps": steps},
    )


# Thm 5.1 -----------------------------------------------------------------------------


def _muon_noisy(kind):
    m, cs, alpha = 8, np.array([4, 16, 64, 256]), 0.3
    lrs = np.geomspace(0.02, 0.4, 9)
    k = m * cs
    m_star = np.log1p((1 - alpha) * k / alpha)
    t_star = np.round(m_star[:, None] / lrs[None, :])
    plateau = 0.03 * lrs[None, :] ** 2 * np.ones((cs.size, 1))
    if kind == "inconsistent":  # the largest K's plateau goes as eta^1.5
        plateau[-1] = 0.03 * lrs**1.5
    elif kind == "inconclusive":  # a plateau scattered by 3x around eta^2
        plateau[-1] *= np.array([1, 3, 1 / 3] * 3)
    fit = og.fit_line
    return og.MuonNoisyResult(
        sizes={"M": m, "beta": 1.5, "alpha": alpha, "r": 1.0, "tail": 200},
        group_sizes=cs,
        log_k=np.log(k),
        m_star=m_star,
        lrs=lrs,
        excess=np.zeros((cs.size, lrs.size, 1)),
        t_star=t_star,
        plateau=plateau,
        amplitude=plateau,
        tstar_fits=tuple(fit(lrs, ts, log_x=True, log_y=True) for ts in t_star),
        plateau_fits=tuple(fit(lrs, pl, log_x=True, log_y=True) for pl in plateau),
    )


# Prop. 5.4 ---------------------------------------------------------------------------


def _case(m, c, alpha, low, high):
    k = m * c
    return og.StabilityCase(
        sizes={"M": m, "C": c, "K": k, "beta": 1.5, "alpha": alpha},
        p1=float(_power_law_p(m, c, 1.5)[0]),
        lam_star=float(theory.gd_stability_curvature(k, alpha)),
        x=np.geomspace(1, 256, 41),
        stable=np.ones(41, bool),
        final_excess=np.zeros(41),
        edge_low=low,
        edge_high=high,
        predicted_edge=float(theory.gd_stability_edge(k, alpha)),
        initial_edge=2.0 * k,
    )


def _stability(kind):
    shapes = ((4, 4), (4, 64))
    if kind == "consistent":  # brackets of ratio 1.15 around 2 / lambda*
        cases = [
            _case(m, c, 0.3, e / 1.07, e * 1.07)
            for m, c in shapes
            for e in [float(theory.gd_stability_edge(m * c, 0.3))]
        ]
    elif kind == "inconsistent":  # the edge at eta p_1 ~ 1, the summary's reading
        cases = [_case(m, c, 0.3, 0.93, 1.07) for m, c in shapes]
    else:  # the grid starts above the edge: open brackets that settle nothing
        cases = [_case(m, c, 0.3, 0.0, 12.0) for m, c in shapes]
    cases.append(_case(4, 16, 0.0, 256.0, math.inf))
    return og.GDStabilityResult(tuple(cases))


# Thms 5.7 and 5.8 -------------------------------------------------------------------


def _scaling(*, m=64, beta=2.0, gd=None, muon=None):
    """A ScalingLawResult holding planted GD and/or Muon curves."""
    nan_fit = og.fit_line(np.zeros(0), np.zeros(0))
    k = 16 * m
    env, learned = gd if gd is not None else (np.zeros(1), np.zeros(1))
    hs, mu, gd_at = muon if muon is not None else (np.zeros(0),) * 3
    return og.ScalingLawResult(
        sizes={
            "M": m,
            "C": 16,
            "K": k,
            "beta": beta,
            "l_star": 1.0,
            "log_k": math.log(k),
            "gd_steps": env.size - 1,
        },
        gd_lr_p1=np.ones(1),
        gd_excess=env[None],
        gd_envelope=env,
        gd_learned=learned,
        gd_t=np.zeros(0),
        gd_fit=nan_fit,
        muon_t=hs,
        muon_lr=np.ones_like(hs),
        muon_excess=mu,
        muon_excess_avg=mu,
        muon_fit=nan_fit,
        muon_fit_avg=nan_fit,
        muon_ratio=mu,
        gd_at_muon_t=gd_at,
    )


def _gd_curves(m, beta, extra_slope=0.0):
    """The finite-M sum sum_g ptil_g exp(-T/T_g), T_g = 5 g^beta, and the groups
    learned (a group's term at half its initial value), as a GD run would give."""
    steps = int(5 * (m + 2) ** beta)
    t = np.arange(steps + 1, dtype=np.float64)
    g = np.arange(1, m + 1, dtype=np.float64)
    terms = np.exp(-t[:, None] / (5 * g**beta))
    w = g**-beta / np.sum(g**-beta)
    env = terms @ w * np.maximum(t, 1.0) ** extra_slope
    return env, (terms <= 0.5).sum(axis=1)


def _gd_scaling(kind):
    if kind == "consistent":
        r = _scaling(gd=_gd_curves(64, 2.0))
    elif kind == "inconsistent":  # steeper than the finite-M sum by T^-0.4
        r = _scaling(gd=_gd_curves(64, 2.0, extra_slope=-0.4))
    else:  # M = 8: the window 2..M/4 groups learned spans T_2..T_3 only
        r = _scaling(m=8, gd=_gd_curves(8, 2.0))
    return {2.0: {r.sizes["M"]: r}}


def _muon_scaling(kind):
    k = 16 * 64
    if kind == "inconclusive":
        hs = np.array([32.0, 48.0, 64.0])  # a range of 2x: too short
    else:
        hs = np.geomspace(32, 8192, 9)
    power = 1.5 if kind == "inconsistent" else 2.0
    wiggle = 1 + 0.2 * np.sin(np.arange(hs.size))
    mu = 0.15 * (math.log(k) / hs) ** power * wiggle
    return [(_scaling(muon=(hs, mu, 10 * mu)), True)]


# Prop. 6.1 and Sec. 6 -----------------------------------------------------------------


def _symmetry(kind, control=(0.45, 0.47)):
    muon = {"consistent": 2e-15, "inconsistent": 1e-6, "inconclusive": math.nan}[kind]
    per_basis = np.array([[muon, control[0]], [muon / 2, control[1]]])
    return og.BlockSymmetryResult(
        sizes={"steps": 100},
        rules=("muon", "signgd"),
        defect=np.zeros((2, 101)),
        max_defect=per_basis.max(axis=0),
        eps=float(np.finfo(np.float64).eps),
        max_defect_per_basis=per_basis,
    )


def _preconditioner(kind):
    shapes = np.array([[4, 4], [8, 64]])
    bound = (1 + shapes[:, 0]) / shapes[:, 1]
    factor = {"consistent": 0.3, "inconsistent": 1.5, "inconclusive": math.nan}[kind]
    dev = factor * bound
    return og.PreconditionerResult(
        sizes={"alpha": 0.0, "beta": 2.0, "lr": 0.1, "steps": 100},
        shapes=shapes,
        bound=bound,
        deviation=dev,
        deviation_weighted=dev,
        deviation_after=np.full(2, np.nan),
        t_star=np.full(2, 101),
    )


# Thm 6.3 and SignGD ------------------------------------------------------------------


def _tra(kind):
    gap = {"consistent": 0.01, "inconsistent": 0.2, "inconclusive": math.nan}[kind]
    return og.TraSignGDResult(
        sizes={"lr": 0.05, "beta": 2.0, "steps": 100},
        cases=np.array([[0.0, 4, 4], [0.3, 4, 4]]),
        gap=np.array([gap, gap / 2]),
        gap_control=np.array([0.4, 0.4]),
        group_gap=np.zeros(2),
        losses=np.zeros((2, 3, 101)),
    )


def _signgd(kind):
    m, steps, seeds = 8, 400, 3
    t = np.arange(steps + 1, dtype=np.float64)
    g = np.arange(1, m + 1, dtype=np.float64)
    flat = np.exp(-0.05 * t)[:, None] * np.ones(m)  # Muon: every group alike
    uneven = np.exp(-0.05 * t[:, None] / g[None, :] ** 0.7)  # SignGD: tail lags
    ratio = {"consistent": 10.0, "inconsistent": 0.5, "inconclusive": 1.5}[kind]
    seed_ratio = ratio * np.array([[0.9, 1.0, 1.1, 1.2]] * seeds).T[:seeds]
    sgl = np.stack([np.stack([uneven] * 4)] * seeds)  # (seeds, nm, S, M)
    return og.SignGDResult(
        sizes={"M": m, "K": 8 * m, "seeds": seeds, "lr": 0.05},
        t=t.astype(np.int64),
        multipliers=np.array([0.5, 1.0, 2.0, 4.0]),
        matched_lr=np.full(seeds, 0.05),
        signgd_loss=sgl.mean(axis=-1),
        signgd_group_loss=sgl,
        muon_loss=flat.mean(axis=1),
        muon_group_loss=flat,
        tra_loss=flat.mean(axis=1),
        tra_group_loss=flat,
        gd_loss=uneven.mean(axis=1),
        gd_group_loss=uneven,
        l_star=0.0,
        excess_ratio=seed_ratio.mean(axis=0),
        seed_excess_ratio=seed_ratio,
        muon_excess_by_multiplier=np.full(4, flat[-1, 0]),
        matching_multiplier=math.nan,
        imbalance={},
        rates={},
    )


PLANTED = {
    "orth_gd_noiseless": (_gd_noiseless, og.gd_noiseless_outcome),
    "orth_muon_noiseless": (_muon_noiseless, og.muon_noiseless_outcome),
    "orth_muon_noisy": (_muon_noisy, og.muon_noisy_outcome),
    "orth_gd_stability": (_stability, og.gd_stability_outcome),
    "orth_gd_scaling_law": (_gd_scaling, og.gd_scaling_outcome),
    "orth_muon_scaling_law": (_muon_scaling, og.muon_scaling_outcome),
    "orth_block_symmetry": (_symmetry, og.block_symmetry_outcome),
    "orth_preconditioner": (_preconditioner, og.preconditioner_outcome),
    "orth_tra_signgd": (_tra, og.tra_signgd_outcome),
    "orth_signgd_random_basis": (_signgd, og.signgd_outcome),
}


def test_every_part_b_check_is_planted():
    names = {c.name for c in mj.available_checks() if c.part == "B"}
    assert set(PLANTED) == names


@pytest.mark.parametrize("kind", VERDICTS)
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_verdict_is_reached(name, kind):
    plant, outcome = PLANTED[name]
    out = outcome(plant(kind))
    rows = [(c.label, c.verdict, c.reason) for c in out.comparisons]
    assert _verdict(out) == kind, rows


def test_the_stability_rows_reach_their_verdicts_and_never_crash():
    pred = float(theory.gd_stability_edge(16, 0.3))
    row = stability.bracket_row
    # A closed bracket holding 2/lambda*, or not.
    assert row(pred / 1.1, pred * 1.1, pred, label="x").verdict == "consistent"
    assert row(pred * 1.2, pred * 1.4, pred, label="x").verdict == "inconsistent"
    # The grid starts above the edge (once a math domain error): an open bracket
    # decides when its finite end lies below the prediction, else it cannot.
    assert row(0.0, pred / 2, pred, label="x").verdict == "inconsistent"
    assert row(0.0, 2 * pred, pred, label="x").verdict == "inconclusive"
    # No edge on the grid: "no edge up to x", inconclusive below the prediction,
    # inconsistent beyond it (a claimed edge that is not there).
    up_to = row(pred / 2, math.inf, pred, label="x")
    assert up_to.verdict == "inconclusive" and "no edge up to" in up_to.notes[0]
    assert row(2 * pred, math.inf, pred, label="x").verdict == "inconsistent"
    # The noiseless row (">=" the W = 0 edge 2K): consistent only once the grid
    # reaches 2K, inconclusive short of it, inconsistent for an edge below it.
    assert row(64, math.inf, 128, label="x", relation=">=").verdict == "inconclusive"
    assert row(256, math.inf, 128, label="x", relation=">=").verdict == "consistent"
    assert row(30, 35, 128, label="x", relation=">=").verdict == "inconsistent"


def test_the_controls_and_muon_below_gd_can_come_out_inconsistent():
    # SignGD keeps the symmetry in one of two bases: the control fails (it compared
    # a min-max range with 0 before, and could not).
    out = og.block_symmetry_outcome(_symmetry("consistent", control=(0.45, 1e-3)))
    (control,) = out.info
    assert control.verdict == "inconsistent"
    assert og.block_symmetry_outcome(_symmetry("consistent")).info[0].verdict == (
        "consistent"
    )
    # GD below Muon at one horizon out of nine: "Muon below GD at every T" fails.
    hs = np.geomspace(32, 8192, 9)
    mu = 0.15 * (math.log(1024) / hs) ** 2
    gd = 10 * mu
    gd[-1] = mu[-1] / 10
    out = og.muon_scaling_outcome([(_scaling(muon=(hs, mu, gd)), True)])
    below = [c for c in out.info if c.label.startswith("log10 GD tuned excess")]
    assert [c.verdict for c in below] == ["inconsistent"]
    assert below[0].estimate == pytest.approx(-1.0)
