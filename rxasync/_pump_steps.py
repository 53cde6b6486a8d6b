"""The pump's small parts: the observer call it makes, the iterator its loop enters again, and how it
tells its own exceptions (a run's end, the batches' end) from the source's and ``on_next``'s."""

from __future__ import annotations

import asyncio
import dis
from collections.abc import AsyncIterator, Callable
from types import CodeType
from typing import Any

from reactivex import abc
from reactivex.observer import AutoDetachObserver

_AT: dict[str, frozenset[int]] = {}  # offsets in Pump.run of the lines that load a name (see _raised_at)


def _emitter(observer: abc.ObserverBase[Any]) -> Callable[[Any], None]:
    """The cheapest correct ``on_next`` for the pump.

    RxPY hands ``reactivex.create``'s subscribe function an
    ``AutoDetachObserver``, whose ``on_next`` only tests ``is_stopped`` and
    calls the next ``on_next``. It is stopped by its own ``on_error`` /
    ``on_completed``, which only the pump calls, after its last item, and by
    ``dispose``, which also disposes the pump's subscription in the same call,
    so the pump's own ``disposed`` test covers it: a dispose on the loop's
    thread ends the run at once, one from another thread is seen at the
    run's end, at most 1,023 items later (the pump starts after
    ``subscribe`` has returned and RxPY has wired that subscription: on the
    loop's thread, which is when this is used). Calling
    the inner ``on_next`` saves a Python call per item (about a quarter of
    the bridge's cost). Any other observer is called as it is.
    """
    if type(observer) is AutoDetachObserver and not observer.is_stopped:
        inner = getattr(observer, "_on_next", None)
        if callable(inner):
            return inner  # type: ignore[no-any-return]
    return observer.on_next


class _Same:
    """What the pump's ``async for`` iterates: ``iterator`` itself, each time the loop is entered again.

    The loop is entered again after each run's end (the IndexError): an
    ``async for`` over the iterator would call its ``__aiter__`` each time,
    and one that rewinds, or returns a new iterator, would repeat its items.
    This calls it never (``open()`` has); its ``__anext__`` is called directly.
    """

    __slots__ = ("iterator",)

    def __init__(self, iterator: AsyncIterator[Any]) -> None:
        self.iterator = iterator

    def __aiter__(self) -> AsyncIterator[Any]:
        return self.iterator


def _raised_at(exc: BaseException, name: str, code: CodeType) -> bool:
    """Whether ``exc`` left ``code`` (:meth:`Pump.run`'s) at a line that loads ``name``.

    ``"countup"``: the pump's lookup past its run (an IndexError that the
    source or ``on_next`` raised passed another line); ``"emit"``: an
    ``on_next`` call; ``"anext"``: a batch's pull. Caught in ``run``, the
    traceback's first entry is ``run``'s frame, at the instruction it was
    running (its offset: ``tb_lineno`` would scan the line table each time).
    """
    if not _AT:
        lines: dict[str, set[int | None]] = {"countup": set(), "emit": set(), "anext": set()}
        for instr in dis.get_instructions(code):
            if instr.opname.startswith("LOAD_") and instr.positions:
                for loaded in instr.argval if isinstance(instr.argval, tuple) else (instr.argval,):
                    if isinstance(loaded, str) and loaded in lines:
                        lines[loaded].add(instr.positions.lineno)
        for key, numbers in lines.items():  # every code unit of those lines (the inline caches too)
            _AT[key] = frozenset(o for a, b, n in code.co_lines() if n in numbers for o in range(a, b, 2))
    tb = exc.__traceback__
    return tb is not None and tb.tb_lasti in _AT.get(name, ())


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
