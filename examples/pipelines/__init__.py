"""Example pipelines built on rxasync."""
