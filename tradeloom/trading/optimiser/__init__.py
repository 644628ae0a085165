"""Strategy search: parameter spaces, grid search, a genetic algorithm over parameters and rules,
walk-forward splits, out-of-sample fitness, and a library of evolved strategies with their lineage."""
