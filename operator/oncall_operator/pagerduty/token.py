"""Where the client's API token comes from: a fixed string, or a file re-read when it changes.

A Kubernetes Secret mounted as a volume is updated in place by the kubelet (it writes the new
files beside the old ones and swaps the `..data` symlink), so a token file that changed is seen
on the next request by comparing the file's identity (device, inode, size, mtime) with the one
read last. After a 401 the client asks for a forced re-read, which also catches a rewrite that
kept size and mtime. Either way a rotated token is used without restarting the operator.

The token itself is never logged, put in an exception or shown by repr(); messages name the file.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_Identity = tuple[int, int, int, int]


class TokenSource:
    """The current token: `TokenSource.fixed(token)` or `TokenSource.from_file(path)`. Thread-safe."""

    def __init__(self, token: str, file: Path | None = None) -> None:
        if not token:
            raise ValueError("a PagerDuty API token is required")
        self._token = token
        self._file = file
        self._identity: _Identity | None = None
        self._lock = threading.Lock()
        self._warned = ""

    @classmethod
    def fixed(cls, token: str) -> TokenSource:
        return cls(token.strip())

    @classmethod
    def from_file(cls, path: Path) -> TokenSource:
        """The token in `path` (surrounding whitespace dropped); ValueError naming the file when
        it cannot be read or is empty: the operator cannot start without a token."""
        identity = _identity(path)
        token = _read(path)
        if not token:
            raise ValueError(f"the API token file {str(path)!r} is empty")
        source = cls(token, file=path)
        source._identity = identity
        return source

    @property
    def file(self) -> Path | None:
        return self._file

    def __repr__(self) -> str:
        return f"TokenSource(file={str(self._file) if self._file else None!r})"

    def current(self) -> str:
        """The token to send now: the file is re-read first if it is no longer the one read last."""
        if self._file is not None:
            try:
                changed = _identity(self._file) != self._identity
            except ValueError as error:
                self._keep_last(error)
                changed = False
            if changed:
                self.reread()
        return self._token

    def reread(self) -> bool:
        """Read the file again whatever its identity; True when the token changed.

        A missing, unreadable or empty file (a Secret being replaced) keeps the last token."""
        if self._file is None:
            return False
        with self._lock:
            try:
                identity = _identity(self._file)
                token = _read(self._file)
            except ValueError as error:
                self._keep_last(error)
                return False
            if not token:
                self._keep_last(ValueError(f"the API token file {str(self._file)!r} is empty"))
                return False
            self._identity = identity
            self._warned = ""
            if token == self._token:
                return False
            self._token = token
        log.info("PagerDuty API token re-read from %s: it changed", self._file)
        return True

    def _keep_last(self, error: ValueError) -> None:
        """Say once per problem (not on every request) that the last token stays in use."""
        if self._warned != str(error):
            self._warned = str(error)
            log.warning("%s; the last token read stays in use", error)


def _identity(path: Path) -> _Identity:
    try:
        found = os.stat(path)  # follows the Secret volume's symlinks to the current file
    except OSError as error:
        raise ValueError(
            f"the API token file {str(path)!r} cannot be read: {error.strerror}"
        ) from None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise ValueError(f"the API token file {str(path)!r} cannot be read: {reason}") from None
