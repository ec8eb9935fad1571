"""Designs: formulas, R and DESeq2 column names, splines, contrasts, derived covariates."""
