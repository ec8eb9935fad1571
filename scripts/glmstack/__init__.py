"""glmstack: one regression per feature, genome-wide (DESeq2's negative-binomial method)."""

__version__ = "0.1.0"
