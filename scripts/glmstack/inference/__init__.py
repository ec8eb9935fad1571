"""Shared by every family: the per-feature results record, Wald and nested-model tests, FDR."""
