"""Dispersion-mean trend (DESeq2 estimateDispersionsFit)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..constants import (
    LOCAL_FIT_MIN_GENES,
    MEAN_TREND_TRIM,
    MIN_DISP,
    TREND_COEF_TOL,
    TREND_MAX_RATIO,
    TREND_MAXIT,
    TREND_MIN_RATIO,
)
from ..errors import StudyError
from ..rmath.gamma_glm import GlmFitError, gamma_identity_glm
from ..rmath.locfit import LocalFit, local_fit

log = logging.getLogger(__name__)


class TrendFitError(RuntimeError):
    """The parametric trend failed (non-positive coefficients or no convergence)."""


@dataclass(frozen=True)
class DispersionTrend:
    """A fitted trend: call `evaluate(base_mean)` for the fitted dispersion.

    fit_type : the trend actually used ("parametric", "local" or "mean").
    requested : the trend the study asked for (differs when parametric fell back to local).
    coefficients : parametric {asymptDisp, extraPois}, or {mean: value}; empty for local.
    local : the local regression of log dispersion on log mean (fit_type == "local").
    """

    fit_type: str
    requested: str
    coefficients: dict[str, float] = field(default_factory=dict)
    local: LocalFit | None = None

    def evaluate(self, base_mean: np.ndarray) -> np.ndarray:
        base_mean = np.asarray(base_mean, dtype=float)
        if self.fit_type == "parametric":
            return self.coefficients["asymptDisp"] + self.coefficients["extraPois"] / base_mean
        if self.fit_type == "mean":
            return np.full(base_mean.shape, self.coefficients["mean"])
        if self.local is None:  # all gene-wise estimates below 10 * minDisp
            return np.full(base_mean.shape, MIN_DISP)
        with np.errstate(divide="ignore"):
            return np.exp(self.local.predict(np.log(base_mean)))

    def to_dict(self) -> dict:
        """JSON form (trend.json between the trend and fit jobs)."""
        out = {"fit_type": self.fit_type, "requested": self.requested, "coefficients": self.coefficients}
        if self.local is not None:
            out["local"] = self.local.to_dict()
        return out

    @classmethod
    def from_dict(cls, obj: dict) -> DispersionTrend:
        local = LocalFit.from_dict(obj["local"]) if obj.get("local") else None
        return cls(obj["fit_type"], obj["requested"], dict(obj["coefficients"]), local)


def parametric_trend(base_mean: np.ndarray, disp: np.ndarray) -> dict[str, float]:
    """Fit disp ~ a0 + a1 / mean by a Gamma GLM with identity link, iterated.

    As DESeq2 parametricDispersionFit: start at (0.1, 1); each round keeps genes whose
    ratio disp / fitted lies in (1e-4, 15) and refits from the current coefficients; stop
    when the summed squared log coefficient ratios fall below 1e-6 and the GLM converged.

    Raises
    ------
    TrendFitError when a coefficient is not positive or after more than 10 rounds.
    """
    coefs = np.array([0.1, 1.0])
    for _ in range(TREND_MAXIT + 1):
        ratio = disp / (coefs[0] + coefs[1] / base_mean)
        good = (ratio > TREND_MIN_RATIO) & (ratio < TREND_MAX_RATIO)
        if good.sum() < 2:
            raise TrendFitError("too few genes left for the parametric trend")
        exog = np.column_stack([np.ones(good.sum()), 1.0 / base_mean[good]])
        try:
            result = gamma_identity_glm(disp[good], exog, start=coefs)
        except (GlmFitError, np.linalg.LinAlgError) as exc:
            raise TrendFitError(str(exc)) from exc
        old, coefs = coefs, result.coefficients
        if not np.all(np.isfinite(coefs)) or not np.all(coefs > 0):
            raise TrendFitError("parametric dispersion fit failed")
        if np.sum(np.log(coefs / old) ** 2) < TREND_COEF_TOL and result.converged:
            return {"asymptDisp": float(coefs[0]), "extraPois": float(coefs[1])}
    raise TrendFitError("dispersion fit did not converge")


def mean_trend(disp_all: np.ndarray) -> float:
    """DESeq2 fitType="mean": 0.1 %-trimmed mean of estimates above 10 * minDisp."""
    values = np.sort(disp_all[disp_all > 10 * MIN_DISP])
    n = values.size
    lo = int(np.floor(n * MEAN_TREND_TRIM))
    return float(values[lo : n - lo].mean())


def fit_trend(base_mean: np.ndarray, disp_gene_est: np.ndarray, fit_type: str) -> DispersionTrend:
    """Dispersion trend over non-all-zero genes (DESeq2 estimateDispersionsFit).

    Only genes with gene-wise estimates above 100 * minDisp inform the parametric and
    local fits. A failing parametric fit falls back to the local fit, as DESeq2 does.

    Parameters
    ----------
    base_mean, disp_gene_est : (G,) for genes that are not all zero.
    fit_type : "parametric" | "local" | "mean".
    """
    use = disp_gene_est > 100 * MIN_DISP
    if not use.any():
        raise StudyError(
            "all gene-wise dispersion estimates are within two orders of magnitude of the "
            "minimum (1e-8), so no dispersion trend can be fitted. This happens with "
            "technical replicates or simulated Poisson data. Fix: check that samples are "
            "biological replicates, or use a design with fewer coefficients."
        )
    if fit_type == "parametric":
        try:
            coefs = parametric_trend(base_mean[use], disp_gene_est[use])
            return DispersionTrend("parametric", fit_type, coefs)
        except TrendFitError as exc:
            log.warning(
                "parametric dispersion trend failed (%s); a local regression fit is used "
                "instead, as DESeq2 does. Set fit_type: local or mean to avoid this note.",
                exc,
            )
    if fit_type in ("parametric", "local"):
        means, disps = base_mean[use], disp_gene_est[use]
        keep = disps >= 10 * MIN_DISP
        if not keep.any():
            return DispersionTrend("local", fit_type)
        if keep.sum() < LOCAL_FIT_MIN_GENES:
            raise StudyError(
                f"only {keep.sum()} gene(s) have a gene-wise dispersion estimate above 1e-6, too few "
                f"for a local dispersion trend (at least {LOCAL_FIT_MIN_GENES}; the parametric trend "
                "failed or was not asked for). Fix: set `fit_type: mean` for this analysis, or give "
                "more features."
            )
        fit = local_fit(np.log(means[keep]), np.log(disps[keep]), means[keep])
        return DispersionTrend("local", fit_type, {}, fit)
    if fit_type == "mean":
        return DispersionTrend("mean", fit_type, {"mean": mean_trend(disp_gene_est)})
    raise ValueError(f"unknown fit_type {fit_type!r}")
