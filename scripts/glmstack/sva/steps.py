"""The genome-wide SVA job: how many surrogate variables, then their values."""

from __future__ import annotations

import numpy as np

from .blocks import FeatureBlocks
from .irw import irw_sva
from .num_sv import num_sv_be, num_sv_leek


def sva_step(blocks: FeatureBlocks, design: np.ndarray, null: np.ndarray, settings: dict) -> dict:
    """Surrogate variables of one analysis.

    Parameters
    ----------
    blocks : the features, block by block; design, null : (N, P), (N, P0) full and null designs.
    settings : the analysis's `sva:` block (n, method, seed, permutations, iterations).

    Returns
    -------
    {"sv": (N, k), "info": json-ready description (n chosen and how, seed, iterations)}
    """
    info: dict = {"method": settings["method"], "n_requested": settings["n"]}
    if settings["n"] == "auto":
        if settings["method"] == "be":
            count = num_sv_be(blocks, design, settings["seed"], settings["permutations"])
            info.update(seed=settings["seed"], permutations=settings["permutations"],
                        uniforms_used=count["uniforms_used"], pvalues=count["pvalues"].tolist(),
                        variance_shares=count["observed"].tolist())
        else:
            count = num_sv_leek(blocks, design)
        k = count["n"]
    else:
        k = int(settings["n"])
    info["n"] = k
    if k == 0:
        return {"sv": np.zeros((design.shape[0], 0)), "info": {**info, "iterations": []}}
    result = irw_sva(blocks, design, null, k, settings["iterations"])
    return {"sv": result["sv"], "info": {**info, "iterations": result["iterations"]}}
