"""The virtual-time fixture and marker, loaded here as users load them (see rxasync.testing.pytest_plugin)."""

from rxasync.testing.pytest_plugin import _virtual_time_marker, pytest_configure, virtual_clock

__all__ = ["_virtual_time_marker", "pytest_configure", "virtual_clock"]
