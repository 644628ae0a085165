"""tradeloom.models."""
