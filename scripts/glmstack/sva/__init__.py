"""Surrogate variable analysis, genome-wide in O(shard + samples^2) memory.

Leek & Storey (2007, PLoS Genetics 3:e161; 2008, PNAS 105:18718) for the iteratively
re-weighted estimate; Buja & Eyuboglu (1992, Multivariate Behav Res 27:509) for the
permutation count of significant components; Leek (2011, Biometrics 67:344) for the
asymptotic count; Leek (2014, NAR 42:e161, svaseq) for counts on the log scale. Every pass
over the features reads one block (shard) at a time and keeps samples x samples
cross-products and one or two numbers per feature.
"""
