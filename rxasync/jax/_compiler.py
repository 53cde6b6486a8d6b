"""Compile once per bucket, count it, and translate JAX's errors.

A :class:`Compiler` holds the ahead-of-time compiled executables of one
operator, one per (bucket, element signature), shared by every subscription.
``count`` is the number of XLA compilations it made: the figure users read to
check that bucketing works. A function that fails to trace or compile, or a
batch that fails to run, becomes a :class:`~rxasync.JaxOperatorError` naming
the operator and, when it is known, the element.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import JaxOperatorError
from ._devices import Placement

__all__ = ["Compiler", "Signature", "canonical_dtype", "describe", "flatten", "run_error", "signature"]


def flatten(tree: Any) -> tuple[list[Any], Any]:
    """``jax.tree.flatten`` with the treedef typed ``Any`` (jaxlib's ``PyTreeDef`` is opaque to mypy)."""
    leaves, treedef = jax.tree.flatten(tree)
    return leaves, treedef


def canonical_dtype(value: Any) -> np.dtype[Any]:
    """The dtype JAX computes ``value`` in (float64 becomes float32 unless x64 is on).

    Raises:
        TypeError: ``value`` is not a number or an array of numbers (a string, ``None``...).
    """
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        dtype = np.asarray(value).dtype
    if not (jnp.issubdtype(dtype, np.number) or jnp.issubdtype(dtype, np.bool_)):
        raise TypeError(f"{type(value).__name__} {value!r:.40} is not a number or an array of numbers")
    return np.dtype(jax.dtypes.canonicalize_dtype(dtype))


class Signature(NamedTuple):
    """What one element looks like: its tree structure and each leaf's shape and dtype."""

    treedef: Any  # jax.tree_util.PyTreeDef
    leaves: tuple[tuple[tuple[int, ...], np.dtype[Any]], ...]


def signature(element: Any) -> Signature:
    """The :class:`Signature` of one element (not a batch).

    Raises:
        TypeError: the element holds no arrays, or a leaf that is not numeric.
    """
    leaves, treedef = flatten(element)
    if not leaves:
        raise TypeError(f"{element!r:.40} holds no arrays")
    return Signature(treedef, tuple((tuple(np.shape(x)), canonical_dtype(x)) for x in leaves))


def describe(sig: Signature) -> str:
    """``float32[3]`` for one leaf, ``{'a': float32[3], ...}``-like text for a tree."""
    parts = [_Text(f"{dtype.name}{list(shape)}") for shape, dtype in sig.leaves]
    return repr(parts[0] if sig.treedef.num_nodes == 1 else sig.treedef.unflatten(parts))


class _Text(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def run_error(
    name: str, exc: BaseException, first: int, count: int, what: str = "element"
) -> JaxOperatorError:
    """The error for a batch of ``count`` items from item ``first`` that failed to run."""
    where = f"{what} {first}" if count == 1 else f"the batch of {what}s {first}..{first + count - 1}"
    error = JaxOperatorError(
        f"{name}: fn failed at run time in {where}: {type(exc).__name__}: {exc}",
        operator=name,
        index=first if count == 1 else None,
    )
    error.__cause__ = exc
    return error


class Compiler:
    """AOT-compiled executables of one jitted function, one per bucket and signature.

    ``make_specs(bucket, sig)`` gives the abstract arguments to lower with;
    the first compile for a key happens on the caller's thread (a dispatch
    thread, never the event loop), under a lock so two threads never compile
    the same key twice.
    """

    def __init__(
        self,
        name: str,
        jitted: Any,
        make_specs: Callable[[int, Signature], tuple[Any, ...]],
        placement: Placement,
    ) -> None:
        self.name = name
        self.jitted = jitted
        self.make_specs = make_specs
        self.placement = placement
        self.count = 0
        self._cache: dict[tuple[int, Signature], Any] = {}
        self._lock = threading.Lock()

    def get(self, bucket: int, sig: Signature, first: int, what: str = "element") -> Any:
        """The compiled executable for ``bucket`` rows of ``sig`` elements."""
        key = (bucket, sig)
        compiled = self._cache.get(key)
        if compiled is not None:
            return compiled
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is None:
                try:
                    compiled = self.jitted.lower(*self.make_specs(bucket, sig)).compile()
                except Exception as exc:
                    raise JaxOperatorError(
                        f"{self.name}: fn failed to trace or compile for {what}s of {describe(sig)} "
                        f"(first at {what} {first}): {type(exc).__name__}: {exc}",
                        operator=self.name,
                        index=first,
                    ) from exc
                self.count += 1
                self._cache[key] = compiled
            return compiled
