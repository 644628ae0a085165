"""tradeloom.data.sources."""
