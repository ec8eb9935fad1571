"""Plots, the HTML report and what it shows."""
