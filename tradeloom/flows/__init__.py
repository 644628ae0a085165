"""tradeloom.flows."""
