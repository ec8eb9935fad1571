# The study: config and sample-sheet checks before any job runs, the analyses (glmstack.spec),
# and the input and params functions of the rules. No rules here.

import contextlib
import functools
import sys
from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from glmstack import study as study_checks  # noqa: E402
from glmstack.errors import StudyError  # noqa: E402
from glmstack.io.files import read_json  # noqa: E402
from glmstack.report.layout import (
    PLOT_TITLES,
    ReportPaths,
    layout_files,
    report_layout,
)  # noqa: E402
from glmstack.spec import (
    SCHEMA_PATH,
    counts_from_abundance,
    study_input,
)  # noqa: E402
from glmstack.io.quant import quant_paths  # noqa: E402
from glmstack.io.samples import read_samples  # noqa: E402
from glmstack.design import matrices  # noqa: E402
from glmstack.design.model import build_model  # noqa: E402
from glmstack.allocator import plain_pages_for_jobs  # noqa: E402
from glmstack.workflow import (
    code_hash,
    exit_promptly,
    file_digest,
    read_stamp,
    write_stamp,
)  # noqa: E402


@contextlib.contextmanager
def study_errors():
    """A StudyError (or the schema's error) is printed as its one message, with no traceback,
    and snakemake exits with status 1."""
    try:
        yield
    except StudyError as exc:
        logger.error(str(exc))
        sys.exit(1)
    except WorkflowError as exc:  # snakemake.utils.validate: the JSON schema
        logger.error(
            f"study config: {exc}\nFix: see config/schema.yaml and config/config.yaml."
        )
        sys.exit(1)


with study_errors():
    study_checks.check_config(config, load_configfile(SCHEMA_PATH))
    validate(config, schema=str(SCHEMA_PATH))
    CHECKED = study_checks.check_study(
        config
    )  # outdir, inputs, sheet, designs, contrasts, report
    OUTDIR = study_checks.check_outdir(
        config["outdir"], Path.cwd()
    )  # the folder, normalised
for warning in CHECKED.warnings:
    logger.warning(f"glmstack: {warning}")
ANALYSES = CHECKED.analyses  # name -> glmstack.spec.Analysis, defaults filled in
REPORT = CHECKED.report  # the report: block, color_by filled in
# the analysed samples, in count order
SAMPLE_IDS = CHECKED.sheet["sample"].astype(str).tolist()
# "counts", "quant" or "values": the feature matrix of the study
STUDY_INPUT = study_input(config)
NB = {name: a for name, a in ANALYSES.items() if not a.is_gaussian and not a.is_reverse}
GAUSSIAN = {
    name: a for name, a in ANALYSES.items() if a.is_gaussian and not a.is_reverse
}
VOOM = {name: a for name, a in GAUSSIAN.items() if a.family == "voom"}
REVERSE = {name: a for name, a in ANALYSES.items() if a.is_reverse}
SVA = {
    name: a for name, a in ANALYSES.items() if a.sva is not None
}  # with surrogate variables
# one dispersion fit per design: model id -> the first nb analysis with that design
MODELS = {a.shape_id("model"): a for a in reversed(NB.values())}
# one fit job per shard for the nb analyses with one design and trend type: (model, fit_type)
# -> their names; the job fits the MAP dispersions and full GLM once, then each analysis's tests
FIT_GROUPS = {}
for _name, _analysis in NB.items():
    FIT_GROUPS.setdefault((_analysis.shape_id("model"), _analysis.fit_type), []).append(
        _name
    )
# one least-squares fit per design, family and normalization (gaussian, voom): lmfit id -> the
# first analysis with it; its lmfit (and voom) jobs are shared by every analysis with that id
LMFITS = {a.shape_id("lmfit"): a for a in reversed(GAUSSIAN.values())}
VOOM_FITS = {key: a for key, a in LMFITS.items() if a.family == "voom"}
# the gaussian and voom analyses of each lmfit id: one moderate and one plot job for all of them
LMFIT_GROUPS = {}
for _name, _analysis in GAUSSIAN.items():
    LMFIT_GROUPS.setdefault(_analysis.shape_id("lmfit"), []).append(_name)
SCRIPTS = Path(workflow.basedir) / "scripts"
plain_pages_for_jobs()  # before any job starts: numpy's huge-page advice costs page faults
# Arrow's parser threads in the ingest job (it reads OMP_NUM_THREADS, which Snakemake sets to a
# job's threads; Snakemake runs it on at most --cores): every other job waits for the matrix
READ_THREADS = 4
# Job priorities. Snakemake starts the ready jobs of highest priority first and, among equals,
# those with the largest inputs (the study-wide matrices and plots). BESIDE: normalize, which
# needs only the shards and takes as long as a fit shard at many samples: it starts beside the
# first genewise shard, so that it does not hold a core later while the fit shards wait (at
# 1,000 samples a second analysis cost 2 s more when it ran after the gene-wise step). FIRST:
# the dispersion fit's chain (genewise, trend, fit), which every table waits for. SOONER: the
# jobs after the fits that the report waits for longest: the plots and the tables (merge,
# moderate). The rest (plot_study) take a core whenever one
# is free. A negative priority holds a job back even then (Snakemake's ILP scheduler weighs
# priority against the cores a selection fills): LATER, for plot_values, which nothing waits for.
BESIDE = 3
FIRST = 2
SOONER = 1
LATER = -1
REPORT_PATHS = ReportPaths(OUTDIR, Path(workflow.basedir) / "rules" / "captions")


def alternatives(names):
    """A wildcard constraint matching exactly these names (none: a pattern matching nothing)."""
    return "|".join(names) or "(?!)"


# nb analyses with shrunken fold changes (lfc_shrink: normal | apeglm): the shrink rules' wildcard
SHRINK_NAMES = alternatives([n for n, a in NB.items() if a.lfc_shrink != "none"])
VOOM_NAMES = alternatives(VOOM)  # and of voom's own steps
VOOM_FIT_IDS = alternatives(VOOM_FITS)  # the lmfit_id wildcard of voom's shared steps
REVERSE_NAMES = alternatives(REVERSE)  # and of the reverse rules
SVA_NAMES = alternatives(SVA)  # and of rule sva


wildcard_constraints:
    shard=r"\d\d\d\d+",
    model=alternatives(MODELS),
    lmfit_id=alternatives(LMFITS),
    fit_type="parametric|local|mean",
    analysis="|".join(ANALYSES),
    table="|".join(sorted({t for a in ANALYSES.values() for t in a.table_names})),


@functools.cache
def code(script):
    """Hash of an entry script and the glmstack modules it imports: edits rerun its jobs."""
    return code_hash(SCRIPTS / script, SCRIPTS / "glmstack")


def analysis_params(job):
    """Params of an analysis's `job`: the keys of the analysis that shape it (glmstack.spec)."""

    def params(wildcards):
        return ANALYSES[wildcards.analysis].params(job)

    return params


def study_quant_files():
    """Sample -> quantification file of the analysed samples (`quant:` studies), else {}."""
    if STUDY_INPUT != "quant":
        return {}
    sheet = read_samples(config["samples"])
    kept = ~sheet["sample"].astype(str).isin(config["exclude_samples"])
    return quant_paths(config["quant"], sheet[kept], config["samples"])


with study_errors():
    QUANT_FILES = study_quant_files()


def ingest_params():
    # the matrix's name columns (nf-core's gene_name, a probe's gene), found by the study checks
    text_columns = CHECKED.annotation.matrix_columns if CHECKED.annotation else []
    if STUDY_INPUT == "values":
        keys = ("genes_per_shard", "exclude_samples")
        return {**{key: config[key] for key in keys}, "text_columns": text_columns}
    keys = ("genes_per_shard", "size_factors_method", "exclude_samples", "round_counts")
    settings = {**{key: config[key] for key in keys}, "text_columns": text_columns}
    if STUDY_INPUT == "quant":
        settings["quant"] = {
            "type": config["quant"]["type"],
            "files": QUANT_FILES,
            "counts_from_abundance": counts_from_abundance(config),
        }
    return settings


def ingest_input(wildcards):
    """The count matrix (and size factors file), or the quantification files and tx2gene."""
    if STUDY_INPUT == "quant":
        return {
            "quant": list(QUANT_FILES.values()),
            "tx2gene": config["quant"]["tx2gene"],
        }
    path = config.get("size_factors_file")
    return {"counts": config["counts"], **({"size_factors_file": path} if path else {})}


def annotation_input(wildcards):
    """The study's `annotation:` table, read by ingest into <outdir>/features.tsv."""
    path = config.get("annotation")
    return {"annotation": path} if path else {}


def shard_ids():
    """Shard ids from the manifest written by the ingest checkpoint."""
    manifest = checkpoints.ingest.get().output.manifest
    return [s["id"] for s in read_json(manifest)["shards"]]


def shard_file(wildcards):
    checkpoints.ingest.get()
    return f"{OUTDIR}/shards/{wildcards.shard}.npz"


def all_shard_files(wildcards):
    return expand(f"{OUTDIR}/shards/{{shard}}.npz", shard=shard_ids())


def sva_table(analysis):
    """The surrogate variables of an analysis with `sva:` (rule sva's table)."""
    return f"{OUTDIR}/{analysis.name}/surrogate_variables.tsv"


def sva_input(wildcards):
    """Input `covariates` of an analysis's jobs: its surrogate variables, which join its
    design (glmstack.design.model.add_covariates); none without `sva:`."""
    analysis = ANALYSES[wildcards.analysis]
    return {"covariates": sva_table(analysis)} if analysis.sva is not None else {}


def model_sva_input(wildcards):
    """The same for the shared dispersion jobs of a model (analyses share a model only where
    everything that shapes the surrogate variables is the same: glmstack.spec.shape_id).
    """
    analysis = MODELS[wildcards.model]
    return {"covariates": sva_table(analysis)} if analysis.sva is not None else {}


def sva_pca_table():
    """The study QC's PCA table that rule plot_sva colours (values or VST counts)."""
    return f"{OUTDIR}/qc/{'values_pca' if STUDY_INPUT == 'values' else 'pca'}.tsv"


def genewise_files(wildcards):
    return expand(rules.genewise.output[0], model=wildcards.model, shard=shard_ids())


def model_params(wildcards):
    """Params of a shared gene-wise job: the design keys, named by the model id."""
    return {**MODELS[wildcards.model].params("model"), "name": wildcards.model}


@functools.cache
def analysis_model(name):
    """The designs and contrasts of an analysis, built once from the checked sample sheet."""
    return build_model(CHECKED.sheet, ANALYSES[name])


def design_params(analysis):
    """An analysis's full design as data, for the shard jobs to rebuild without the formula
    library (glmstack.design.matrices; a job appends the surrogate variables itself)."""
    full = analysis_model(analysis.name).full
    return matrices.model_to_params(matrices.Model(full, None, []), SAMPLE_IDS)


def model_design_params(wildcards):
    """Params `design` of a model's shared jobs (genewise, trend)."""
    return design_params(MODELS[wildcards.model])


def fit_model_params(wildcards):
    """Params `models` of a fit job: each analysis's designs and contrasts as data."""
    names = FIT_GROUPS[(wildcards.model, wildcards.fit_type)]
    return [
        matrices.model_to_params(analysis_model(name), SAMPLE_IDS) for name in names
    ]


def lmfit_design_params(wildcards):
    """Params `design` of a shared lmfit or voom job."""
    return design_params(LMFITS[wildcards.lmfit_id])


def trend_params(wildcards):
    """Params of a shared trend or MAP job: the design keys and the trend type."""
    return {**model_params(wildcards), "fit_type": wildcards.fit_type}


def fit_group(analysis):
    """The model and trend type of an nb analysis: the wildcards of its fit jobs."""
    return {"model": analysis.shape_id("model"), "fit_type": analysis.fit_type}


def fit_inputs(wildcards):
    """What a fit job starts from (one shard): the model's gene-wise estimates and trend, and the
    stamps of every analysis it fits."""
    names = FIT_GROUPS[(wildcards.model, wildcards.fit_type)]
    return {
        "genewise": expand(
            rules.genewise.output[0], model=wildcards.model, shard=wildcards.shard
        )[0],
        "trend": expand(
            rules.trend.output[0], model=wildcards.model, fit_type=wildcards.fit_type
        )[0],
        "stamps": [stamp("fit", name) for name in names],
    }


def fit_params(wildcards):
    """Params of a fit job: the fit keys of each analysis it fits, in study order."""
    names = FIT_GROUPS[(wildcards.model, wildcards.fit_type)]
    return [ANALYSES[name].params("fit") for name in names]


def fit_files(wildcards):
    """The fit files (one per shard) that hold an nb analysis's arrays (`{name}.{array}`)."""
    group = fit_group(ANALYSES[wildcards.analysis])
    return expand(rules.fit.output[0], **group, shard=shard_ids())


def fit_file(wildcards):
    """The same for one shard."""
    group = fit_group(ANALYSES[wildcards.analysis])
    return expand(rules.fit.output[0], **group, shard=wildcards.shard)[0]


def lmfit_id(wildcards):
    """The shared least-squares fit of a job: its `lmfit_id`, or that of its analysis."""
    if "lmfit_id" in wildcards.keys():
        return wildcards.lmfit_id
    return ANALYSES[wildcards.analysis].shape_id("lmfit")


def lmfit_params(wildcards):
    """Params of a shared lmfit or voom job: the lmfit keys, named by the lmfit id (the same
    for every analysis that shares the fit, so its stamp does not change between them).
    """
    return {**LMFITS[wildcards.lmfit_id].params("lmfit"), "name": wildcards.lmfit_id}


def lmfit_sva_input(wildcards):
    """The surrogate variables of a shared lmfit or voom job (shared only where everything
    that shapes them is the same: glmstack.spec.shape_id), like model_sva_input."""
    analysis = LMFITS[wildcards.lmfit_id]
    return {"covariates": sva_table(analysis)} if analysis.sva is not None else {}


def voom_point_files(wildcards):
    return expand(
        rules.voom_points.output[0], lmfit_id=lmfit_id(wildcards), shard=shard_ids()
    )


def voom_trend_file(wildcards):
    return expand(rules.voom_trend.output[0], lmfit_id=lmfit_id(wildcards))[0]


def voom_inputs(wildcards):
    """A voom fit's lmfit job also reads the library sizes and the genome-wide trend."""
    if wildcards.lmfit_id not in VOOM_FITS:
        return {}
    return {
        "library_sizes": rules.library_sizes.output[0],
        "trend": voom_trend_file(wildcards),
    }


def reverse_shard_files(wildcards):
    return expand(
        rules.reverse_shard.output[0], analysis=wildcards.analysis, shard=shard_ids()
    )


def reverse_mem_mb(wildcards, attempt):
    """Memory of a reverse shard job: 800 MB plus the shard's null statistics (8 bytes per
    feature and permutation) and the batches of fits (glmstack.reverse.steps.CHUNK_CELLS).
    """
    manifest = read_json(f"{OUTDIR}/manifest.json")
    genes = max(s["stop"] - s["start"] for s in manifest["shards"])
    permutations = ANALYSES[wildcards.analysis].permutations
    return int(800 + genes * permutations * 8 / 1e6) * attempt


def shard_mem_mb(wildcards, attempt):
    """Memory of one shard job: 500 MB plus 160 bytes per count of the largest shard (64 per
    value of a values: study).

    Measured peaks are about 100 bytes per count (tests/benchmark: ~1 GB for the fit job of
    a 10-million-count shard) and under 32 per value (least squares); `attempt` doubles and
    triples it on retries.
    """
    manifest = read_json(f"{OUTDIR}/manifest.json")
    n_samples = len(manifest["samples"])
    genes = max(s["stop"] - s["start"] for s in manifest["shards"])
    per_cell = 64 if STUDY_INPUT == "values" else 160
    return int(500 + genes * n_samples * per_cell / 1e6) * attempt


def vst_model():
    """The design of the study's VST: None, blind to the design (DESeq2's vst default), else
    that of report.vst_analysis."""
    vst_analysis = REPORT["vst_analysis"]
    return ANALYSES[vst_analysis].params("model") if vst_analysis else None


def vst_design():
    """The full design of report.vst_analysis as data (None: blind), as design_params."""
    vst_analysis = REPORT["vst_analysis"]
    return design_params(ANALYSES[vst_analysis]) if vst_analysis else None


def vst_sva_input(wildcards):
    """The surrogate variables of report.vst_analysis, where it has them: they join its design
    in the VST too."""
    vst_analysis = REPORT["vst_analysis"]
    analysis = ANALYSES[vst_analysis] if vst_analysis else None
    return {"covariates": sva_table(analysis)} if analysis and analysis.sva else {}


def study_plot_params():
    return {"color_by": REPORT["color_by"], "pca_genes": REPORT["pca_genes"]}


# rule normalize's tables; normalization factors only where the study has them
NORMALIZATION_FILES = {
    "normalized": f"{OUTDIR}/normalization/normalized_counts.tsv",
    "vst": f"{OUTDIR}/normalization/vst.tsv",
    **(
        {"factors": f"{OUTDIR}/normalization/normalization_factors.tsv"}
        if STUDY_INPUT == "quant" and counts_from_abundance(config) == "no"
        else {}
    ),
}


def values_plot_params():
    return {"color_by": REPORT["color_by"], "pca_genes": REPORT["pca_genes"]}


def report_study_rows():
    if STUDY_INPUT == "values":
        return {"values": config["values"], "samples": config["samples"]}
    if STUDY_INPUT == "quant":
        quant = config["quant"]
        return {
            "quantifications": f"{quant['type']}: {quant['files']} (tx2gene {quant['tx2gene']}, "
            f"counts from abundance: {counts_from_abundance(config)})",
            "samples": config["samples"],
            "size_factors": (
                f"{config['size_factors_method']} with transcript-length offsets"
                if counts_from_abundance(config) == "no"
                else config["size_factors_method"]
            ),
        }
    return {
        "counts": config["counts"],
        "samples": config["samples"],
        "size_factors": config.get("size_factors_file")
        or config["size_factors_method"],
    }


REPORT_LAYOUT = report_layout(REPORT_PATHS, ANALYSES, values=STUDY_INPUT == "values")


# Stamps: one small file per step (and analysis) holding what shapes its jobs, i.e. the analysis
# keys, report settings, the code hash, and for ingest the input files' checksums. Each is
# an input of those jobs and is rewritten only when its content changes, so results cannot
# go stale when .snakemake/ is lost, the study runs from elsewhere, or an input is restored
# with an old timestamp.
ANALYSIS_STAMPS = (
    {  # rule name -> (analysis job of glmstack.spec.JOB_KEYS, entry script)
        "fit": ("fit", "fit.py"),
        "merge": ("tables", "merge.py"),
        "plot_analysis": ("plots", "plot_analysis.py"),
    }
)
SHRINK_STAMPS = {  # the same for the rules of an nb analysis with lfc_shrink
    "shrink_prior": ("shrink", "shrink_prior.py"),
    "shrink": ("shrink", "shrink.py"),
}
GAUSSIAN_STAMPS = {  # the same for the gaussian analyses' rules
    "moderate": ("limma_summary", "moderate.py"),
    "plot_limma_analysis": ("limma_summary", "plot_limma_analysis.py"),
}
VOOM_STAMPS = {  # and voom's trend plot (of the shared trend)
    "plot_voom": ("lmfit", "plot_voom.py"),
}
# the shared least-squares fits (one per lmfit id): rule name -> entry script
LMFIT_STAMPS = {"lmfit": "lmfit.py"}
VOOM_FIT_STAMPS = {"voom_points": "voom_points.py", "voom_trend": "voom_trend.py"}
REVERSE_STAMPS = {  # the same for the reverse analyses' rules
    "reverse_plan": ("reverse", "reverse_plan.py"),
    "reverse_shard": ("reverse", "reverse_shard.py"),
    "reverse_merge": ("reverse_merge", "reverse_merge.py"),
    "plot_reverse": ("reverse_merge", "plot_reverse.py"),
}


def stamp(rule, key=None):
    """Path of a rule's stamp (per analysis, model or model.fit_type where the rule has those)."""
    return (
        f"{OUTDIR}/stamps/{rule}.json"
        if key is None
        else f"{OUTDIR}/stamps/{rule}/{key}.json"
    )


def _write_stamps():
    previous = read_stamp(stamp("ingest")).get("inputs", {})
    inputs = {
        key: file_digest(config[key], previous.get(key))
        for key in ("counts", "values", "samples", "size_factors_file", "annotation")
        if config.get(key)
    }
    if STUDY_INPUT == "quant":
        files = {"tx2gene": config["quant"]["tx2gene"], **QUANT_FILES}
        inputs.update(
            {
                f"quant:{k}": file_digest(p, previous.get(f"quant:{k}"))
                for k, p in files.items()
            }
        )
    ingest_script = "ingest_values.py" if STUDY_INPUT == "values" else "ingest.py"
    stamps = {
        stamp("ingest"): {
            "settings": ingest_params(),
            "inputs": inputs,
            "code": code(ingest_script),
        },
        stamp("plot_study"): {
            "params": study_plot_params(),
            "code": code("plot_study.py"),
        },
        stamp("normalize"): {
            "params": {
                "vst_model": vst_model(),
                "files": NORMALIZATION_FILES,
                "pca_genes": REPORT["pca_genes"],
            },
            "code": code("normalize.py"),
        },
        stamp("report"): {
            "layout": REPORT_LAYOUT,
            "study": report_study_rows(),
            "code": code("report.py"),
        },
    }
    for name, analysis in ANALYSES.items():
        steps = GAUSSIAN_STAMPS if analysis.is_gaussian else ANALYSIS_STAMPS
        if name in VOOM:
            steps = {**steps, **VOOM_STAMPS}
        if not analysis.is_gaussian and analysis.lfc_shrink != "none":
            steps = {**steps, **SHRINK_STAMPS}
        steps = REVERSE_STAMPS if analysis.is_reverse else steps
        for step, (job, script) in steps.items():
            content = {"params": analysis.params(job), "code": code(script)}
            if step in ("reverse_plan", "reverse_merge"):
                content["study_input"] = STUDY_INPUT
            if step in ("plot_analysis", "plot_limma_analysis", "plot_reverse"):
                content["top_genes"] = config["report"]["top_genes"]
            stamps[stamp(step, name)] = content
    for name, analysis in SVA.items():
        stamps[stamp("sva", name)] = {
            "params": analysis.params("sva"),
            "code": code("sva.py"),
        }
        stamps[stamp("plot_sva", name)] = {"code": code("plot_sva.py")}
    for model, analysis in MODELS.items():
        params = {**analysis.params("model"), "name": model}
        stamps[stamp("genewise", model)] = {
            "params": params,
            "code": code("genewise.py"),
        }
        for fit_type in sorted(
            {a.fit_type for a in NB.values() if a.shape_id("model") == model}
        ):
            content = {
                "params": {**params, "fit_type": fit_type},
                "code": code("trend.py"),
            }
            stamps[stamp("trend", f"{model}.{fit_type}")] = content
    for key, analysis in LMFITS.items():
        steps = {**LMFIT_STAMPS, **(VOOM_FIT_STAMPS if key in VOOM_FITS else {})}
        params = {**analysis.params("lmfit"), "name": key}  # as lmfit_params
        for step, script in steps.items():
            stamps[stamp(step, key)] = {"params": params, "code": code(script)}
    if VOOM:
        stamps[stamp("library_sizes")] = {"code": code("library_sizes.py")}
    if STUDY_INPUT == "values":
        stamps[stamp("plot_values")] = {
            "params": values_plot_params(),
            "code": code("plot_values.py"),
        }
    for path, content in stamps.items():
        write_stamp(path, content)


study_checks.mark_outdir(OUTDIR)  # before the stamps: the first thing written in outdir
_write_stamps()


def report_inputs(wildcards):
    """Every file the HTML report reads; for an nb or gaussian analysis, the folders of its
    table plots and top-genes tables, which its plot job writes whole (directory outputs).
    """
    folders = {
        folder
        for name, analysis in ANALYSES.items()
        if not analysis.is_reverse
        for folder in [
            *(
                REPORT_PATHS.table_plots(kind, name)
                for kind in table_plot_kinds(analysis)
            ),
            REPORT_PATHS.top_genes_tables(name),
        ]
    }

    def needed(path):
        folder = str(Path(path).parent)
        return folder if folder in folders else path

    return list(dict.fromkeys(needed(path) for path in layout_files(REPORT_LAYOUT)))


# the plots of a result table, one folder each (REPORT_PATHS.table_plots), drawn by the
# analysis's plot job (plot_analysis_<group>: nb; plot_limma_analysis_<lmfit id>: gaussian)
NB_TABLE_PLOTS = tuple(PLOT_TITLES["table"])  # ma, volcano, pvalues, counts
LIMMA_TABLE_PLOTS = tuple(PLOT_TITLES["limma_table"])  # ma, volcano, pvalues, values


def table_plot_kinds(analysis):
    return LIMMA_TABLE_PLOTS if analysis.is_gaussian else NB_TABLE_PLOTS


def table_report(kind, label, caption=None, analysis="{analysis}"):
    """A plot job's folder of one kind of table plot, marked for Snakemake's report."""
    return report(
        directory(REPORT_PATHS.table_plots(kind, analysis)),
        patterns=["{table}.png"],
        caption=f"captions/{caption or kind}.rst",
        category=analysis,
        subcategory="{table}",
        labels={"figure": label},
    )


def top_genes_report(label, analysis="{analysis}"):
    """A plot job's folder of top-genes tables, marked for Snakemake's report."""
    return report(
        directory(REPORT_PATHS.top_genes_tables(analysis)),
        patterns=["{table}.tsv"],
        caption="captions/top_genes.rst",
        category=analysis,
        subcategory="{table}",
        labels={"figure": label},
    )


def table_plot_paths(name, kinds):
    """Where a plot job writes each result table's plots and top-genes table of an analysis."""
    return {
        table: {
            **{kind: REPORT_PATHS.table_plot(kind, name, table) for kind in kinds},
            "top": REPORT_PATHS.top_genes_table(name, table),
        }
        for table in ANALYSES[name].table_names
    }


# The genome-wide jobs of the analyses that share a fit, shared as the fit jobs are: for the nb
# analyses of one design and trend type (FIT_GROUPS), one merge job (tables, dispersions.tsv,
# model.json) and one plot job; for the gaussian and voom analyses of one least-squares fit
# (LMFIT_GROUPS), one moderate job (tables, model.json) and one plot job. A second analysis of a
# design costs no job start of its own. Their outputs are the analyses' files, which vary in
# number with the study, so each group has its own rules (rules/merge.smk, rules/report.smk,
# rules/gaussian.smk), named after the group: merge_<model>_<fit_type>, moderate_<lmfit id>.


def group_name(key):
    """The name of a fit group (model id, fit type) in its rules' names and log paths."""
    return "_".join(key)


def group_fit_files(key):
    """Input function: the fit files (one per shard) of the analyses of a fit group."""
    model, fit_type = key
    return lambda wildcards: expand(
        rules.fit.output[0], model=model, fit_type=fit_type, shard=shard_ids()
    )


def group_trend(key):
    """The trend job's JSON of a fit group (its Cook's F quantile, its trend for model.json)."""
    model, fit_type = key
    return expand(rules.trend.output[0], model=model, fit_type=fit_type)[0]


def group_shrink_files(names):
    """Input function: the shrink shards of the analyses (of one fit group) with lfc_shrink."""
    return lambda wildcards: [path for name in names for path in shrink_paths(name)]


def shared_sva_input(analysis):
    """Input function (unpacked) of a group job: `covariates`, the surrogate variables that the
    group's analyses share with `analysis` (glmstack.spec.shape_id), none without `sva:`.
    """
    covariates = {"covariates": sva_table(analysis)} if analysis.sva is not None else {}
    return lambda wildcards: covariates


def result_tables(name):
    """An analysis's result tables: table name -> <outdir>/<analysis>/<table>.tsv."""
    return {t: f"{OUTDIR}/{name}/{t}.tsv" for t in ANALYSES[name].table_names}


def merge_outputs(name):
    """What the merge job writes for one nb analysis: its result tables, dispersions.tsv,
    model.json and the report's summary table."""
    return {
        "tables": result_tables(name),
        "dispersions": f"{OUTDIR}/{name}/dispersions.tsv",
        "model": REPORT_PATHS.model(name),
        "summary": REPORT_PATHS.summary_table(name),
    }


def group_merge_outputs(names):
    """The files of a fit group's merge job (`merge_outputs` of each of its analyses), each
    summary table marked for Snakemake's report."""
    files = []
    for name in names:
        out = merge_outputs(name)
        summary = report(
            out["summary"],
            caption="captions/summary.rst",
            category=name,
            subcategory="model",
            labels={"figure": "summary table"},
        )
        files += [*out["tables"].values(), out["dispersions"], out["model"], summary]
    return files


def shrink_paths(name):
    """The shrink shards of one analysis (none without lfc_shrink), in shard order."""
    if ANALYSES[name].lfc_shrink == "none":
        return []
    return expand(rules.shrink.output[0], analysis=name, shard=shard_ids())


def group_jobs(names, job, outputs):
    """Params `analyses` of a group's moderate, merge or plot job (`job`: glmstack.spec.JOB_KEYS):
    per analysis, its keys, its designs and contrasts as data, the paths `outputs(name)` it
    writes, and for an nb analysis its shrink shards."""

    def entry(name):
        analysis = ANALYSES[name]
        out = {
            "analysis": analysis.params(job),
            "model": matrices.model_to_params(analysis_model(name), SAMPLE_IDS),
            "outputs": outputs(name),
        }
        return out if analysis.is_gaussian else {**out, "shrunk": shrink_paths(name)}

    return lambda wildcards: [entry(name) for name in names]


def nb_plot_outputs(name):
    """What the plot job draws for one nb analysis: its model's plots and its tables'."""
    return {
        "dispersion": REPORT_PATHS.analysis_plot("dispersion", name),
        "cooks": REPORT_PATHS.analysis_plot("cooks", name),
        "tables": table_plot_paths(name, NB_TABLE_PLOTS),
    }


def model_plot_report(kind, label, name):
    """A plot of an analysis's model, marked for Snakemake's report."""
    return report(
        REPORT_PATHS.analysis_plot(kind, name),
        caption=f"captions/{kind}.rst",
        category=name,
        subcategory="model",
        labels={"figure": label},
    )


def group_plot_outputs(names):
    """The files and folders of a fit group's plot job (`nb_plot_outputs` of each of its
    analyses), marked for Snakemake's report."""
    files = []
    for name in names:
        files += [
            model_plot_report("dispersion", "dispersion estimates", name),
            model_plot_report("cooks", "Cook's distances per sample", name),
            # one folder per kind of plot, a PNG per result table (table_plot_paths)
            table_report("ma", "MA plot", analysis=name),
            table_report("volcano", "volcano plot", analysis=name),
            table_report("pvalues", "p-value histogram", analysis=name),
            table_report("counts", "counts of the top genes", analysis=name),
            top_genes_report("top genes table", analysis=name),
        ]
    return files


def group_lmfit_files(key):
    """Input function: the least-squares fits (one per shard) of an lmfit group."""
    return lambda wildcards: expand(
        rules.lmfit.output[0], lmfit_id=key, shard=shard_ids()
    )


def group_library_size_input(key):
    """Input function (unpacked): voom's library sizes, for the jobs of a voom group that
    recompute log-CPM values; none for gaussian analyses."""
    sizes = {"library_sizes": rules.library_sizes.output[0]} if key in VOOM_FITS else {}
    return lambda wildcards: sizes


def limma_outputs(name):
    """What the moderate job writes for one gaussian or voom analysis: its tables, model.json."""
    return {"tables": result_tables(name), "model": REPORT_PATHS.model(name)}


def group_limma_outputs(names):
    """The files of an lmfit group's moderate job (`limma_outputs` of each of its analyses)."""
    files = []
    for name in names:
        out = limma_outputs(name)
        files += [*out["tables"].values(), out["model"]]
    return files


def limma_plot_outputs(name):
    """What the plot job draws for one gaussian or voom analysis: limma's plotSA and its tables'."""
    return {
        "sigma_mean": REPORT_PATHS.analysis_plot("sigma_mean", name),
        "tables": table_plot_paths(name, LIMMA_TABLE_PLOTS),
    }


def group_limma_plot_outputs(names):
    """The files and folders of an lmfit group's plot job (`limma_plot_outputs` of each of its
    analyses), marked for Snakemake's report."""
    files = []
    for name in names:
        files += [
            model_plot_report("sigma_mean", "sigma against mean", name),
            # one folder per kind of plot, a PNG per table (table_plot_paths)
            table_report("ma", "MA plot", "limma_ma", name),
            table_report("volcano", "volcano plot", "limma_volcano", name),
            table_report("pvalues", "p-value histogram", "limma_pvalues", name),
            table_report("values", "top features", "limma_values", name),
            top_genes_report("top features table", name),
        ]
    return files


def table_outputs():
    """Every table of the study and each analysis's model.json: the target `tables`."""
    out = [rules.ingest.output.manifest, rules.ingest.output.features]
    if STUDY_INPUT != "values":
        out.append(rules.ingest.output.size_factors)
        out += list(rules.normalize.output)
    for name, analysis in ANALYSES.items():
        out += list(result_tables(name).values())
        if analysis.sva is not None:
            out.append(sva_table(analysis))
        if analysis.is_reverse:
            out += expand(rules.reverse_merge.output, analysis=name)
        elif analysis.is_gaussian:
            out.append(REPORT_PATHS.model(name))
        else:
            out += [p for k, p in merge_outputs(name).items() if k != "tables"]
    return out


def all_outputs():
    """The tables, the plots and the report: the default target `all`."""
    # the report needs every plot, so the plots are made too
    return [*table_outputs(), rules.report.output[0]]
