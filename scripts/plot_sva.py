"""Rule plot_sva: R^2 of the surrogate variables on every recorded sample variable, and the
study's PCA coloured by the variable they track most."""

import pandas as pd
from glmstack.io.files import read_json
from glmstack.io.samples import aligned_samples
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.report import sva as report_sva
from glmstack.sva.tables import read_surrogate_variables


def main(smk) -> None:
    log = log_to(smk.log[0])
    name = smk.wildcards.analysis
    sv = read_surrogate_variables(smk.input.table)
    sheet = aligned_samples(smk.input.samples, read_json(smk.input.manifest)["samples"])
    r2 = report_sva.variable_r2(sv, sheet)
    write_tsv(smk.output.r2_table, r2.rename_axis("variable").reset_index())
    report_sva.r2_heatmap(r2, smk.output.r2, f"{name}: {sv.shape[1]} surrogate variables, R² by sample variable")
    strongest = report_sva.strongest_variable(r2)
    scores = pd.read_csv(smk.input.pca, sep="\t", dtype={"sample": str})
    groups = sheet.set_index("sample").loc[scores["sample"], strongest].astype(str).tolist() if strongest else None
    title = f"{name}: PCA coloured by {strongest}" if strongest else f"{name}: PCA (no recorded variable)"
    report_sva.pca_by_variable(scores, groups, strongest, smk.output.pca, title)
    log.info("%d SVs; strongest recorded variable %s", sv.shape[1], strongest)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
