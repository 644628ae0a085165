"""tradeloom.trading."""
