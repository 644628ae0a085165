"""tradeloom.tasks."""
