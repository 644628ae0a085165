"""tradeloom.deployments."""
