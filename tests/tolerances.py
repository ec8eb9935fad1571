"""Agreement with R DESeq2 1.38, set once for every golden comparison (the issues' figures)."""

SIZE_FACTOR_RTOL = 1e-6  # size factors, relative
DISPERSION_LOG_MEDIAN = 1e-3  # final dispersion: median |log(ours / DESeq2)|
DISPERSION_LOG_P99 = 0.05  # final dispersion: 99th percentile of |log(ours / DESeq2)|
LFC_PEARSON = 0.9999  # log2FoldChange Pearson r on genes with baseMean >= 10
LFC_MIN_BASEMEAN = 10.0
PVALUE_SPEARMAN = 0.9999  # p-value Spearman rho where both are not NA (NA positions must agree)
PADJ_JACCARD = 0.99  # Jaccard index of the padj < 0.1 sets
ALPHA = 0.1
