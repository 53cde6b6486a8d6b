"""The web-service pipeline: fan-out, degradation, retries, cancellation, the load test, the CLI.

Every case runs real aiohttp servers on free ports of 127.0.0.1 (the service
and its backends, started by ``run_stack``) and stops them after; the suite's
leak check fails a case that leaves a task pending or a socket open.
"""

from __future__ import annotations

import asyncio
import doctest
import importlib
import json
import pkgutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import examples.pipelines.web as web
from examples.pipelines.web import NAMES, BackendSettings, Policy, payload, run_stack
from examples.pipelines.web.__main__ import parse_args
from examples.pipelines.web._child import ROOT
from examples.pipelines.web._load import run_levels
from examples.pipelines.web._options import backend_settings, policy_of, stack_argv
from examples.pipelines.web._service import Kind, Stack
from rxasync.stats import watch

FAST = BackendSettings(delay=0.005, jitter=0.005)
SLACK = 2.0  # seconds on top of a backend's timeout that a degraded answer may take (a shared CI machine)
KINDS: list[Kind] = ["rxasync", "raw"]
#: generous limits, so that a busy CI machine does not turn slow answers into degraded ones
PATIENT = Policy(timeout=20, attempt_timeout=20)


def settings(**special: BackendSettings) -> dict[str, BackendSettings]:
    return {name: special.get(name, FAST) for name in NAMES}


async def get(url: str, seconds: float = 10.0) -> tuple[int, Any, float]:
    """Status, JSON body and seconds of one GET with plain aiohttp (the test's own client).

    The seconds are the loop's: real ones, or virtual ones on the virtual clock.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
        session.get(url) as resp,
    ):
        return resp.status, await resp.json(), loop.time() - started


async def wait_for(condition: Any, seconds: float = 5.0) -> None:
    """Poll ``condition()`` until true, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("kind", KINDS)
async def test_web_merged_answer_equals_the_backends_answers(kind: Kind) -> None:
    async with run_stack(settings(), PATIENT, kind) as stack:
        for item in (0, 7, 123):
            status, answer, _ = await get(f"{stack.url}/item/{item}")
            direct = {name: (await get(f"{b.url}/item/{item}"))[1] for name, b in stack.backends.items()}
            assert status == 200
            assert answer == {"item": item, **direct, "degraded": []}
            assert direct == {name: payload(name, item) for name in NAMES}  # the reference


@pytest.mark.virtual_time  # in-loop servers and timers only: the waits pass at once, the timings stay
@pytest.mark.parametrize("kind", KINDS)
async def test_web_backend_down_degrades_within_its_timeout(kind: Kind) -> None:
    policy = Policy(timeout=1.5, attempt_timeout=1.5)
    async with run_stack(settings(reviews=BackendSettings(down=True)), policy, kind) as stack:
        status, answer, seconds = await get(f"{stack.url}/item/5")
    assert status == 200
    assert answer["reviews"] is None
    assert answer["degraded"] == ["reviews"]
    assert answer["prices"] == payload("prices", 5)
    assert answer["stock"] == payload("stock", 5)
    assert seconds < policy.timeout + SLACK
    assert stack.counts.degraded == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_web_transient_failure_is_retried_and_succeeds(kind: Kind) -> None:
    policy = Policy(attempts=3, backoff=0.01, timeout=5.0, attempt_timeout=2.0)
    async with run_stack(settings(stock=BackendSettings(delay=0, fail_first=2)), policy, kind) as stack:
        status, answer, _ = await get(f"{stack.url}/item/9")
        counts = stack.backends["stock"].counts
    assert status == 200
    assert answer["degraded"] == []
    assert answer["stock"] == payload("stock", 9)
    assert (counts.requests, counts.failed, counts.answered) == (3, 2, 1)


@pytest.mark.parametrize("kind", KINDS)
async def test_web_failure_past_the_attempts_degrades(kind: Kind) -> None:
    policy = Policy(attempts=2, backoff=0.01, timeout=5.0, attempt_timeout=2.0)
    async with run_stack(settings(prices=BackendSettings(delay=0, fail_first=5)), policy, kind) as stack:
        status, answer, _ = await get(f"{stack.url}/item/9")
        counts = stack.backends["prices"].counts
    assert (status, answer["prices"], answer["degraded"]) == (200, None, ["prices"])
    assert (counts.requests, counts.failed) == (2, 2)  # tried twice, never more


@pytest.mark.virtual_time  # in-loop servers and timers only: the waits pass at once, the timings stay
@pytest.mark.parametrize("kind", KINDS)
async def test_web_slow_backend_is_cut_at_its_timeout(kind: Kind) -> None:
    policy = Policy(timeout=1.0, attempt_timeout=10.0, attempts=1)  # the budget cuts, not the attempt
    async with run_stack(settings(stock=BackendSettings(delay=30)), policy, kind) as stack:
        status, answer, seconds = await get(f"{stack.url}/item/2")
        slow = stack.backends["stock"].counts
        await wait_for(lambda: slow.cancelled == 1)  # the backend saw its request aborted
    assert (status, answer["stock"], answer["degraded"]) == (200, None, ["stock"])
    assert policy.timeout <= seconds < policy.timeout + SLACK
    assert slow.answered == 0


@pytest.mark.virtual_time  # in-loop servers and timers only: the waits pass at once, the timings stay
@pytest.mark.parametrize("kind", KINDS)
async def test_web_each_backend_has_its_own_budget(kind: Kind) -> None:
    policy = {
        "prices": PATIENT,
        "stock": Policy(timeout=10, attempt_timeout=10, attempts=1),  # slow, but within its budget
        "reviews": Policy(timeout=0.3, attempt_timeout=10, attempts=1),  # past its budget
    }
    slow = settings(stock=BackendSettings(delay=1.0), reviews=BackendSettings(delay=30))
    async with run_stack(slow, policy, kind) as stack:
        status, answer, seconds = await get(f"{stack.url}/item/4")
    assert (status, answer["stock"], answer["reviews"]) == (200, payload("stock", 4), None)
    assert answer["degraded"] == ["reviews"]
    assert 1.0 <= seconds < 1.0 + SLACK


@pytest.mark.virtual_time  # in-loop servers and timers only: the waits pass at once, the timings stay
@pytest.mark.parametrize("kind", KINDS)
async def test_web_client_disconnect_cancels_the_backend_calls(kind: Kind) -> None:
    hanging = BackendSettings(delay=30)
    policy = Policy(timeout=60, attempt_timeout=60, attempts=1)
    async with run_stack(dict.fromkeys(NAMES, hanging), policy, kind) as stack:
        backends = list(stack.backends.values())
        with pytest.raises(TimeoutError):
            await get(f"{stack.url}/item/1", seconds=0.3)  # the client gives up and disconnects
        await wait_for(lambda: all(b.counts.cancelled == 1 for b in backends))
        await wait_for(lambda: stack.counts.cancelled == 1)
        assert [b.counts.requests for b in backends] == [1, 1, 1]
        assert sum(b.counts.answered for b in backends) == 0
    # leaving the block with nothing pending is checked by the suite's leak check


async def _load(stack: Stack, requests: int, concurrency: int, seconds: float = 30.0) -> Any:
    [level] = await run_levels(stack.url, [concurrency], requests, seconds)
    return level


async def test_web_load_run_gives_sane_figures() -> None:
    async with run_stack(settings(), PATIENT) as stack:
        level = await _load(stack, 200, 20)
        served = stack.counts.requests
    assert level.concurrency == 20
    assert level.requests == 200 == level.ok + level.degraded + level.errors == served
    assert level.ok == 200
    assert 0 < level.p50_ms <= level.p95_ms <= level.p99_ms
    assert level.rps == pytest.approx(200 / level.seconds)


async def test_web_load_run_counts_degraded_answers() -> None:
    async with run_stack(settings(reviews=BackendSettings(down=True)), Policy()) as stack:
        level = await _load(stack, 40, 10)
    assert (level.requests, level.ok, level.degraded, level.errors) == (40, 0, 40, 0)


async def test_web_load_run_is_bounded_in_time() -> None:
    async with run_stack(settings(), PATIENT) as stack:
        started = time.perf_counter()
        level = await _load(stack, 1_000_000, 10, seconds=0.5)
        took = time.perf_counter() - started
    assert 0 < level.requests < 1_000_000
    assert took < 0.5 + SLACK + 1  # the time bound plus one round of requests in flight


def _cli(*argv: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "examples.pipelines.web", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_web_help_runs() -> None:
    result = _cli("--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m examples.pipelines.web" in result.stdout
    assert "serve" in result.stdout
    assert "load" in result.stdout


@pytest.mark.parametrize("command", ["serve", "load"])
def test_web_subcommand_help_runs(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: python -m examples.pipelines.web {command}" in out
    assert "--timeout" in out
    assert "--down" in out


@pytest.mark.parametrize(
    "argv", [["serve", "--port", "70000"], ["load", "--levels", "0,5"], ["load", "--seconds", "0"]]
)
def test_web_command_line_refuses_bad_numbers(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error" in capsys.readouterr().err


def test_web_load_command_runs_end_to_end(tmp_path: Path) -> None:
    png, figures = tmp_path / "load.png", tmp_path / "load.json"
    argv = ["load", "--levels", "2,4", "--requests", "20", "--seconds", "20", "--no-view", "--no-progress"]
    result = _cli(*argv, "--delay", "0", "--down", "stock", "--png", str(png), "--json", str(figures))
    assert result.returncode == 0, result.stdout + result.stderr
    levels = json.loads(figures.read_text())
    assert [(lv["concurrency"], lv["requests"], lv["degraded"]) for lv in levels] == [
        (2, 20, 20),
        (4, 20, 20),
    ]
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize(
    "name",
    [web.__name__]
    + [f"{web.__name__}.{m.name}" for m in pkgutil.iter_modules(web.__path__) if m.name != "__main__"],
)
def test_web_doctests_pass(name: str) -> None:
    # the default test paths are tests/, rxasync/ and docs/, so the example's doctests run from here
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


async def test_web_load_run_live_view_lists_stages_not_requests() -> None:
    async with run_stack(settings(), PATIENT) as stack, watch(view=False, interval=1.0) as watcher:
        await run_levels(stack.url, [5, 10], 60, 30.0)
        served = stack.counts.requests
    names = [row["name"] for row in watcher.rows]
    assert {"requests c=5", "load c=5", "requests c=10", "load c=10"} <= set(names)
    # The service runs in this process too, and each of its 120 fan-outs builds a map_async and
    # awaits three first(get_json) calls: the view folds stages built per request into one row
    # per kind (an unnamed from_awaitable under first() is awaited directly: no row at all).
    assert served == 120
    assert not any(name.startswith("first") for name in names), names
    assert sum(name.startswith("map_async") for name in names) <= 1, names
    assert len(names) < 12, names


def test_web_command_line_builds_the_backends_and_the_policy() -> None:
    args = parse_args(
        ["serve", "--slow", "stock", "--down", "reviews", "--timeout", "0.2", "--attempts", "5"]
    )
    built = backend_settings(args)
    assert built["stock"].delay == pytest.approx(0.8)
    assert built["reviews"].down
    assert not built["prices"].down
    assert built["prices"].delay == 0.02
    assert set(policy_of(args).values()) == {
        Policy(timeout=0.2, attempt_timeout=0.2, attempts=5, backoff=0.02)
    }
    own = policy_of(parse_args(["serve", "--budget", "reviews=0.1", "--timeout", "2"]))
    assert (own["reviews"].timeout, own["reviews"].attempt_timeout, own["stock"].timeout) == (0.1, 0.1, 2.0)
    args = parse_args(["load", "--slow", "stock", "--budget", "prices=0.3", "--failure-rate", "0.1"])
    built = backend_settings(args)
    again = parse_args(["load", *stack_argv(args)])
    assert (backend_settings(again), policy_of(again)) == (built, policy_of(args))
