"""Gaussian family: limma-style linear models with moderated statistics (Smyth 2004), treat, voom and TMM."""
