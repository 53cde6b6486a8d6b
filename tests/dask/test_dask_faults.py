"""A worker SIGKILLed mid-stream: Dask recomputes its tasks, every result arrives exactly once."""

from __future__ import annotations

import os
import signal
from collections import Counter

import dask_funcs
import reactivex
from distributed import Client
from reactivex import operators as ops

import rxasync
from rxasync.dask import map_on_cluster

N = 200


async def test_dask_map_worker_killed_mid_stream_loses_nothing(client: Client) -> None:
    pids: dict[str, int] = await client.run(os.getpid)
    victim = sorted(pids.values())[0]
    got: list[int] = []

    def take(value: int) -> None:
        got.append(value)
        if len(got) == N // 5:
            os.kill(victim, signal.SIGKILL)  # one worker process of the test cluster, by its pid

    stage = map_on_cluster(dask_funcs.slow_square, client, args=(0.02,))
    out = await rxasync.to_list(reactivex.range(N).pipe(stage, ops.do_action(take)))
    assert out == [x * x for x in range(N)]  # in order, none lost...
    assert Counter(got) == Counter(x * x for x in range(N))  # ...and none twice
    await client.wait_for_workers(2, timeout=60)  # the nanny restarted it; the next tests need both
    assert victim not in (await client.run(os.getpid)).values()
