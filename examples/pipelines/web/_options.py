"""The command line's options for the backends and the fan-out policy, shared by ``serve`` and ``load``."""

from __future__ import annotations

import argparse

from ._backends import NAMES, BackendSettings
from ._fanout import Policy

__all__ = ["add_stack_options", "backend_settings", "policy_of", "stack_argv"]


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """``--delay``, ``--jitter``, ``--failure-rate``, ``--down``, ``--slow`` and the policy's options."""
    group = parser.add_argument_group("the backends (prices, stock, reviews)")
    group.add_argument("--delay", type=float, default=0.02, help="seconds before each answer (default 0.02)")
    group.add_argument(
        "--jitter", type=float, default=0.01, help="up to this many seconds more (default 0.01)"
    )
    group.add_argument(
        "--failure-rate", type=float, default=0.0, help="share of answers that are a 503, 0 to 1 (default 0)"
    )
    group.add_argument(
        "--down", action="append", choices=NAMES, default=[], help="switch this backend off (repeatable)"
    )
    group.add_argument(
        "--slow", action="append", choices=NAMES, default=[], help="this backend answers after 4 * --timeout"
    )
    policy = parser.add_argument_group("each backend call")
    policy.add_argument(
        "--timeout", type=float, default=0.5, help="a backend's budget, retries included (0.5)"
    )
    policy.add_argument(
        "--budget",
        action="append",
        type=_budget,
        default=[],
        metavar="NAME=SECONDS",
        help="this backend's own --timeout (repeatable): --budget reviews=0.2",
    )
    policy.add_argument("--attempt-timeout", type=float, default=0.25, help="one attempt's limit (0.25)")
    policy.add_argument("--attempts", type=int, default=3, help="tries in all, the first included (3)")
    policy.add_argument("--backoff", type=float, default=0.02, help="seconds before the first retry (0.02)")
    parser.add_argument(
        "--fanout",
        choices=("rxasync", "raw"),
        default="rxasync",
        help="the fan-out: rxasync (map_async + rxasync.http) or the raw asyncio.gather baseline",
    )


def backend_settings(args: argparse.Namespace) -> dict[str, BackendSettings]:
    """Each backend's settings from the command line."""
    out = {}
    for seed, name in enumerate(NAMES):
        delay = 4 * args.timeout if name in args.slow else args.delay
        out[name] = BackendSettings(delay, args.jitter, args.failure_rate, down=name in args.down, seed=seed)
    return out


def _budget(text: str) -> tuple[str, float]:
    name, _, seconds = text.partition("=")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if name not in NAMES or not value > 0:
        raise argparse.ArgumentTypeError(
            f"expected NAME=SECONDS with NAME one of {', '.join(NAMES)}: {text!r}"
        )
    return name, value


def policy_of(args: argparse.Namespace) -> dict[str, Policy]:
    """Each backend's policy from the command line: ``--timeout``, or its own ``--budget``."""
    budgets = dict(args.budget)
    out = {}
    for name in NAMES:
        timeout = budgets.get(name, args.timeout)
        out[name] = Policy(timeout, min(args.attempt_timeout, timeout), args.attempts, args.backoff)
    return out


def stack_argv(args: argparse.Namespace) -> list[str]:
    """The same backend and policy options, as a command line for ``serve``."""
    argv = [
        "--delay",
        str(args.delay),
        "--jitter",
        str(args.jitter),
        "--failure-rate",
        str(args.failure_rate),
    ]
    argv += ["--timeout", str(args.timeout), "--attempt-timeout", str(args.attempt_timeout)]
    argv += ["--attempts", str(args.attempts), "--backoff", str(args.backoff), "--fanout", args.fanout]
    for name in args.down:
        argv += ["--down", name]
    for name in args.slow:
        argv += ["--slow", name]
    for name, seconds in args.budget:
        argv += ["--budget", f"{name}={seconds}"]
    return argv
