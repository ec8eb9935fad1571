"""R-exact numerical helpers, each tested against R's numbers."""
