"""Incremental bytes → lines decoding, shared by ``rxasync.http`` and ``rxasync.files``.

:class:`LineDecoder` takes chunks as they arrive, cut anywhere (inside a
multi-byte character, between ``\\r`` and ``\\n``) and returns the complete
lines in each. Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (Python's universal
newlines). A line that grows past ``max_line_length`` characters raises
:class:`LineTooLongError` as soon as it does, so an endless line cannot fill
memory; undecodable bytes raise :class:`DecodeError` naming the line and the
byte offset (with ``errors="strict"``).
"""

from __future__ import annotations

import codecs
import re

from ._checks import check_int
from ._errors import DecodeError, LineTooLongError

__all__ = ["DEFAULT_MAX_LINE_LENGTH", "LineDecoder"]

DEFAULT_MAX_LINE_LENGTH = 1 << 20
_NEWLINE = re.compile(r"\r\n|\r|\n")


class LineDecoder:
    """Decode a byte stream chunk by chunk into lines.

    Args:
        encoding: any codec Python knows (``"utf-8"``, ``"latin-1"``...).
        errors: ``"strict"`` raises :class:`DecodeError`; ``"replace"``,
            ``"ignore"``, ``"backslashreplace"``... substitute instead.
        max_line_length: longest line allowed, in characters, newline excluded.
        keepends: keep each line's ending as it was in the stream.
        source: URL or path, quoted in errors.

    Example:
        >>> d = LineDecoder()
        >>> d.feed(b"caf\\xc3"), d.feed(b"\\xa9\\r"), d.feed(b"\\nbar"), d.close()
        ([], ['café'], [], ['bar'])
    """

    __slots__ = (
        "_cr",
        "_decoder",
        "_failed",
        "_partlen",
        "_parts",
        "encoding",
        "keepends",
        "line",
        "max_line_length",
        "offset",
        "source",
    )

    def __init__(
        self,
        encoding: str = "utf-8",
        errors: str = "strict",
        max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
        keepends: bool = False,
        source: str = "",
    ) -> None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        try:
            codecs.lookup_error(errors)
        except LookupError:
            raise ValueError(f"unknown errors handler {errors!r}") from None
        check_int("max_line_length", max_line_length)
        self.encoding = encoding
        self.max_line_length = max_line_length
        self.keepends = keepends
        self.source = source
        self._decoder = codecs.getincrementaldecoder(encoding)(errors)
        self._parts: list[str] = []  # the line in progress
        self._partlen = 0
        self._cr = False  # the last text ended in "\r": drop a "\n" that starts the next
        self.line = 0  # complete lines returned so far
        self.offset = 0  # bytes fed so far
        self._failed: LineTooLongError | None = None  # raised at the next call

    def feed(self, data: bytes | bytearray | memoryview) -> list[str]:
        """Decode one chunk (any bytes-like object); return the lines it completes (maybe none).

        When a line is too long, the complete lines before it are returned
        first and :class:`LineTooLongError` is raised by the next call.
        """
        if self._failed is not None:
            raise self._failed
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, pending + bytes(data), len(pending)) from exc
        self.offset += len(data)
        return self._split(text) if text else []

    def close(self) -> list[str]:
        """End of stream: return the last line if it had no newline.

        Raises:
            DecodeError: the stream ends inside a multi-byte character (strict).
            LineTooLongError: a line was too long (see :meth:`feed`).
        """
        if self._failed is not None:
            raise self._failed
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(b"", True)
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, pending, len(pending)) from exc
        lines = self._split(text) if text else []
        if self._cr and self.keepends:
            self._cr = False
            self._parts.append("\r")
        if self._parts:
            lines.append("".join(self._parts))
            self._parts.clear()
            self._partlen = 0
            self.line += 1
        return lines

    def raise_pending(self) -> None:
        """Raise now the error held for the next call (a too-long line after the lines returned).

        For a reader that may not call again soon: ``tail`` waits for more
        bytes, which may never come, so it asks after each read.
        """
        if self._failed is not None:
            raise self._failed

    @property
    def buffered(self) -> int:
        """Characters of the line in progress (not yet returned)."""
        return self._partlen

    def offset_of(self, lines: list[str], index: int, column: int = 0) -> int:
        """The byte offset in the stream of character ``column`` of ``lines[index]``.

        ``lines`` is the list the last :meth:`feed` or :meth:`close` returned.
        The lines' bytes are counted back from the end of what was fed, so
        their endings must be kept (``keepends=True``), and the count is exact
        for an encoding that encodes each character on its own (UTF-8, ASCII,
        Latin-1...) decoded with ``errors="strict"`` (a substituted character
        has no bytes of its own to count). ``http.ndjson`` uses it for the
        ``offset`` of a line that is not JSON.

        Raises:
            ValueError: the decoder drops the line endings (``keepends=False``).

        Example:
            >>> d = LineDecoder(keepends=True)
            >>> lines = d.feed("é\\r\\nab\\nc".encode())
            >>> lines, d.offset_of(lines, 1, 1)  # the "b": after "é\\r\\n" (4 bytes) and "a"
            (['é\\r\\n', 'ab\\n'], 5)
        """
        if not self.keepends:
            raise ValueError("offset_of needs keepends=True: the line endings are counted")
        encoding = self.encoding
        after = sum(len(line.encode(encoding)) for line in lines[index:])
        return self._line_start() - after + len(lines[index][:column].encode(encoding))

    def _line_start(self) -> int:
        """Byte offset of the line in progress: what was fed, less the bytes not yet returned."""
        held = len(self._decoder.getstate()[0]) + (1 if self._cr else 0)  # a kept "\r" held back
        return self.offset - held - len("".join(self._parts).encode(self.encoding))

    def _split(self, text: str) -> list[str]:
        if self.keepends:
            if self._cr:  # a "\r" held back from the last chunk: it may start a "\r\n"
                text = "\r" + text
                self._cr = False
            if text.endswith("\r"):
                text = text[:-1]
                self._cr = True
            pieces, start = [], 0
            for match in _NEWLINE.finditer(text):
                pieces.append(text[start : match.end()])
                start = match.end()
            pieces.append(text[start:])
            return self._collect(pieces, len(text))
        if self._cr:  # the last chunk ended in "\r", already a line end: skip its "\n"
            self._cr = False
            if text.startswith("\n"):
                text = text[1:]
        if not text:
            return []
        if "\r" in text:
            self._cr = text.endswith("\r")
            pieces = _NEWLINE.split(text)
        else:
            pieces = text.split("\n")
        return self._collect(pieces, len(text))

    def _collect(self, pieces: list[str], textlen: int) -> list[str]:
        parts = self._parts
        limit = self.max_line_length
        tail = pieces.pop()
        if pieces:
            if parts:
                parts.append(pieces[0])
                pieces[0] = "".join(parts)
                parts.clear()
            if self._partlen + textlen > limit:
                bad = self._first_too_long(pieces)
                if bad >= 0:
                    del pieces[bad:]
                    return self._fail(pieces)
            self.line += len(pieces)
            self._partlen = 0
        if tail:
            parts.append(tail)
            self._partlen += len(tail)
            if self._partlen > limit:
                return self._fail(pieces, counted=True)
        return pieces

    def _first_too_long(self, lines: list[str]) -> int:
        limit = self.max_line_length  # characters without the line's ending, kept or not
        for index, line in enumerate(lines):
            if len(line) > limit and (not self.keepends or len(line.rstrip("\r\n")) > limit):
                return index
        return -1

    def _fail(self, before: list[str], counted: bool = False) -> list[str]:
        """Deliver the complete lines ``before`` the too-long one; raise at the next call."""
        if not counted:
            self.line += len(before)
        self._failed = self._too_long()
        self._parts.clear()
        self._partlen = 0
        if not before:
            raise self._failed
        return before

    def _too_long(self) -> LineTooLongError:
        where = f" in {self.source}" if self.source else ""
        return LineTooLongError(
            f"line {self.line + 1}{where} is longer than max_line_length="
            f"{self.max_line_length} characters (read {self.offset} bytes so far)",
            source=self.source,
            line=self.line + 1,
            offset=self.offset,
        )

    def _decode_error(self, exc: UnicodeDecodeError, data: bytes, held: int) -> DecodeError:
        good = data[: exc.start].decode(self.encoding, "replace")
        if self._cr:  # a "\r" ended the last chunk: with the text after it, one line end
            good = "\r" + good
        newlines = len(_NEWLINE.findall(good))
        if self._cr and not self.keepends:
            newlines -= 1  # that "\r" already ended a line counted in self.line
        line = self.line + 1 + newlines
        offset = self.offset - held + exc.start
        where = f" in {self.source}" if self.source else ""
        return DecodeError(
            f"invalid {self.encoding} data{where} at byte offset {offset} (line {line}): {exc.reason}",
            source=self.source,
            line=line,
            offset=offset,
        )
