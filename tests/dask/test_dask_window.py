"""The default window of ``map_on_cluster``: doubled while the workers idle, between its floor and cap."""

from __future__ import annotations

import pytest

from rxasync.dask._window import CAP_MIN, CAP_PER_THREAD, EPOCH_MIN, Window, default_window


def run(
    window: Window, *, rate: float, task: float, tasks: int, held_back: bool = True, blocked: bool = False
) -> list[int]:
    """Feed ``tasks`` completions at ``rate``/s, each having run ``task`` s on a worker; the sizes seen.

    ``held_back``/``blocked``: what the stage flags before each completion.
    """
    now, sizes = 0.0, []
    window.started(now)
    for _ in range(tasks):
        now += 1 / rate
        window.held_back, window.blocked = window.held_back or held_back, window.blocked or blocked
        window.completed(1, task, now)
        sizes.append(window.size)
    return sizes


def test_dask_window_floor_and_cap_are_per_thread() -> None:
    window = default_window(3)
    assert (window.floor, window.cap, window.size) == (6, 3 * CAP_PER_THREAD, 6)
    assert (default_window(0).floor, default_window(0).cap) == (2, CAP_MIN)  # no thread known: one
    assert default_window(100).cap == 100 * CAP_PER_THREAD


def test_dask_window_idle_workers_double_it_up_to_the_cap() -> None:
    # 2 threads doing 1 ms tasks at 500/s: busy a quarter of the time, so it doubles every epoch...
    window = default_window(2)
    sizes = run(window, rate=500, task=0.001, tasks=2_000)
    assert sizes[0] == 4
    assert sorted(set(sizes)) == [4, 8, 16, 32, 64, 128]  # ...each epoch: 16, 16, 16, 32, 64 completions
    assert sizes.index(128) == 16 + 16 + 16 + 32 + 64 - 1
    assert window.utilisation == pytest.approx(0.25)
    assert max(sizes) == CAP_MIN  # never above the cap


def test_dask_window_no_growth_for_a_slow_consumer_or_source() -> None:
    """Workers idle for the consumer below (blocked) or for the source (nothing held back): it stays."""
    assert set(run(default_window(2), rate=500, task=0.001, tasks=1_000, blocked=True)) == {4}
    assert set(run(default_window(2), rate=500, task=0.001, tasks=1_000, held_back=False)) == {4}


def test_dask_window_busy_workers_keep_it() -> None:
    # 20 ms tasks, 2 threads at 95/s: busy 95% of the time, the floor is enough.
    window = default_window(2)
    assert set(run(window, rate=95, task=0.020, tasks=500)) == {4}
    assert window.utilisation == pytest.approx(0.95)


def test_dask_window_stops_growing_once_busy() -> None:
    # Idle at first (a window of 4 or 8 leaves them waiting), busy once 16 are in flight.
    window, now = default_window(2), 0.0
    window.started(now)
    for _ in range(400):
        rate = 1_800 if window.size >= 16 else 400
        now += 1 / rate
        window.held_back = True
        window.completed(1, 0.001, now)
    assert window.size == 16


def test_dask_window_waits_for_an_epoch() -> None:
    window = default_window(2)
    assert set(run(window, rate=500, task=0.001, tasks=EPOCH_MIN - 1)) == {4}
    assert window.utilisation is None  # fewer completions than an epoch: nothing measured yet


@pytest.mark.parametrize("concurrency", [1, 8, 1_000])
def test_dask_window_given_concurrency_is_exact(concurrency: int) -> None:
    """``concurrency=N`` is ``Window(N, N)``: what the completions measure never moves it."""
    window = Window(concurrency, concurrency)
    assert set(run(window, rate=50_000, task=0.000_01, tasks=3_000)) == {concurrency}
