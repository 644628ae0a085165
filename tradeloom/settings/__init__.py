"""Typed settings, read once at the edge (CLI, flow entry) from the environment and ``.env``.

Each class documents its environment names in ``.env.example``; nothing below the edge
reads the environment.
"""
