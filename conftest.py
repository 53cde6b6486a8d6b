"""Root pytest configuration, loaded before anything imports jax."""

import os

# Two host "devices" for the JAX sharding tests; must be set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
