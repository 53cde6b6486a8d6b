"""A web service that fans each request out to three slow backends, degrading gracefully; and its load test.

Run ``python -m examples.pipelines.web --help``. The modules:

* ``_backends``: the three slow backends (aiohttp apps on 127.0.0.1);
* ``_fanout``: one request's fan-out with rxasync (``map_async`` + ``rxasync.http``) and the merge;
* ``_raw``: the same fan-out in raw ``asyncio.gather`` + aiohttp (the benchmark's baseline);
* ``_service``: the front service and :func:`run_stack`, which starts everything;
* ``_load``, ``_chart``: the bounded load test and its chart.
"""

from ._backends import NAMES, BackendSettings, payload
from ._fanout import Policy, merge
from ._load import LevelResult
from ._service import run_stack

__all__ = ["NAMES", "BackendSettings", "LevelResult", "Policy", "merge", "payload", "run_stack"]
