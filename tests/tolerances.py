"""Agreement with R DESeq2 1.38, set once for every golden comparison (the issues' figures)."""

SIZE_FACTOR_RTOL = 1e-6  # size factors, relative
DISPERSION_LOG_MEDIAN = 1e-3  # final dispersion: median |log(ours / DESeq2)|
DISPERSION_LOG_P99 = 0.05  # final dispersion: 99th percentile of |log(ours / DESeq2)|
LFC_PEARSON = 0.9999  # log2FoldChange Pearson r on genes with baseMean >= 10
LFC_MIN_BASEMEAN = 10.0
PVALUE_SPEARMAN = 0.9999  # p-value Spearman rho where both are not NA (NA positions must agree)
PADJ_JACCARD = 0.99  # Jaccard index of the padj < 0.1 sets
ALPHA = 0.1

# Gaussian family against limma 3.54.1 (tests/data/gaussian; the thresholds)
STAT_PEARSON = 0.99999  # moderated t / F Pearson r on the features R tests
LOG10_P_MAX = 1e-6  # max |log10 P.Value (ours) - log10 P.Value (R)|
PRIOR_RTOL = 1e-6  # df.prior and s2.prior, relative
LIMMA_ALPHA = 0.1  # adj.P.Val < 0.1 sets must be equal
