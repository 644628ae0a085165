"""Market data: sources, quality suites, the DuckDB market store, bundled sample data."""
