"""tradeloom: an automated trading platform run by Prefect."""

__version__ = "0.1.0"
