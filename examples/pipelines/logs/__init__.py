"""Logs: ``tail -F`` an access log, count per minute, status and path into PostgreSQL, alert on 5xx into Redis.

See ``__main__`` for the command line and ``docs/guides/pipelines.md`` (Logs) for what survives what.
"""
