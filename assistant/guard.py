"""Read files in a worker process, so a hostile file costs at most its limits.

A parser can loop for minutes on a crafted PDF, blow up on a decompression
bomb or recurse into a deeply nested HTML page. A check inside our own loops
cannot stop a parser stuck in a single call, so each file is read by a worker
process: past `max_read_seconds` the worker is killed, past `max_read_memory_mb`
its allocations fail, and either way the file gets one clear ReadError naming
the limit while the build goes on with a fresh worker.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from .readers import ReadError, read_document
from .schema import Document


@dataclass(frozen=True)
class Limits:
    """Per-file limits; each is a setting (ASSISTANT_MAX_*)."""

    max_file_mb: float = 50.0
    max_pages: int = 2000
    max_read_seconds: float = 60.0
    max_read_memory_mb: int = 2048

    @classmethod
    def of(cls, settings) -> "Limits":
        """The limits of a Settings object."""
        return cls(settings.max_file_mb, settings.max_pages, settings.max_read_seconds, settings.max_read_memory_mb)


# Starting a worker (Python and the parsers' imports) is not counted in a file's time limit.
STARTUP_SECONDS = 120


class LimitReached(ReadError):
    """A per-file limit stopped the reading (time or memory)."""

    def __init__(self, path, reason: str, limit: str):
        super().__init__(path, reason)
        self.limit = limit


class ReaderCrash(ReadError):
    """The reader raised something other than ReadError: a bug to fix, reported per file all the same."""


def _read(path: Path, max_file_mb: float, max_pages: int, chunking):
    """The Document, or (Document, its passages) when chunking is (source label, chunk size, overlap)."""
    document = read_document(path, max_file_mb, max_pages)
    if chunking is None:
        return document
    from dataclasses import replace

    from .chunking import chunk_document
    from .themes import tag_passages

    label, size, overlap = chunking
    document = replace(document, source=label)
    return document, tag_passages(chunk_document(document, size, overlap))


def _worker(conn: Connection, out: Connection, memory_mb: int) -> None:
    """Read the files the parent sends, one at a time, and send back a Document or an error."""
    # The parsers are imported before saying ready, so a file's time limit counts reading only.
    import ftfy  # noqa: F401
    import langchain_text_splitters  # noqa: F401
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401

    try:
        import resource

        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    out.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, max_file_mb, max_pages, chunking = request
        try:
            reply = ("ok", _read(Path(path), max_file_mb, max_pages, chunking))
        except ReadError as err:
            reply = ("error", err.reason)
        except MemoryError:
            reply = ("memory", "")
        except RecursionError:
            reply = ("error", "structure trop profondément imbriquée pour être lue : simplifiez ou réexportez le fichier")
        except Exception as err:  # noqa: BLE001 - any parser failure is one file's failure
            reply = ("crash", f"{type(err).__name__}: {err}"[:200])
        try:
            out.send(reply)
        except MemoryError:
            out.send(("memory", ""))


class BoundedReader:
    """read_document in a worker process, with a time and a memory limit per file."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._process: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    def __enter__(self) -> "BoundedReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        # A fresh interpreter (`python -m assistant.guard`), not multiprocessing: its spawn mode re-runs
        # the caller's main script, and fork would copy the caller's threads and loaded model.
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                                          os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen([sys.executable, "-m", "assistant.guard", str(self.limits.max_read_memory_mb),
                                    str(os.getpid())],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   env=env, close_fds=True)
        self._process = process
        self._send = Connection(os.dup(process.stdin.fileno()), readable=False)
        self._conn = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        try:
            ready = self._conn.poll(STARTUP_SECONDS) and self._conn.recv() == ("ready", None)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop(kill=True)
            raise RuntimeError(f"le processus de lecture n'a pas démarré en {STARTUP_SECONDS} s "
                               f"({sys.executable} -m assistant.guard)")

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _stop(self, kill: bool) -> None:
        process, send, conn = self._process, self._send, self._conn
        self._process = self._send = self._conn = None
        if process is None:
            return
        if not kill:
            try:
                send.send(None)
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if process.poll() is None:
            process.kill()
            process.wait()
        send.close()
        conn.close()

    def close(self) -> None:
        """Stop the worker."""
        self._stop(kill=False)

    def read(self, path: Path) -> Document:
        """The Document of one file, or ReadError (LimitReached when a limit stopped it)."""
        return self._ask(Path(path), None)

    def read_passages(self, path: Path, label: str, chunk_size: int, chunk_overlap: int) -> tuple[Document, list]:
        """The Document of one file (its source set to label) and its tagged passages, within the same limits."""
        return self._ask(Path(path), (label, chunk_size, chunk_overlap))

    def _ask(self, path: Path, chunking):
        limits = self.limits
        if not self._alive():
            if self._process is not None:
                self._stop(kill=True)
                self.restarts += 1
            self._start()
        try:
            self._send.send((str(path), limits.max_file_mb, limits.max_pages, chunking))
            ready = self._conn.poll(limits.max_read_seconds)
            reply = self._conn.recv() if ready else None
        except (EOFError, OSError):
            code = self._process.poll() if self._process else None
            self._stop(kill=True)
            raise ReaderCrash(path, f"le lecteur s'est arrêté brutalement (code {code}) sur ce fichier : "
                                    "réexportez-le depuis son logiciel d'origine") from None
        if reply is None:
            self._stop(kill=True)
            raise LimitReached(path, f"lecture arrêtée après {limits.max_read_seconds:g} s (limite max_read_seconds) : "
                                     "fichier trop complexe ou piégé ; relevez ASSISTANT_MAX_READ_SECONDS "
                                     "s'il est légitime", "max_read_seconds")
        kind, value = reply
        if kind == "ok":
            return value
        if kind == "memory":
            # The worker may be left in a bad state after a MemoryError: start a fresh one next time.
            self._stop(kill=True)
            raise LimitReached(path, f"lecture arrêtée : plus de {limits.max_read_memory_mb} Mo de mémoire "
                                     "(limite max_read_memory_mb ; bombe de décompression ?) ; relevez "
                                     "ASSISTANT_MAX_READ_MEMORY_MB s'il est légitime", "max_read_memory_mb")
        if kind == "crash":
            raise ReaderCrash(path, f"lecture impossible ({value}) : réexportez le fichier")
        limit = next((name for name in ("max_pages", "max_file_mb") if name in value), None)
        if limit:
            raise LimitReached(path, value, limit)
        raise ReadError(path, value)


def worker_pid(reader: BoundedReader) -> int | None:
    """The worker's process id (tests kill it to check recovery)."""
    return reader._process.pid if reader._process is not None else None


def _die_with_parent(parent: int) -> None:
    """End this worker when the build that started it ends, even by kill -9, even in the middle of a file."""
    import signal
    import threading
    import time

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the build was killed while this interpreter was starting
        os._exit(1)

    def watch() -> None:  # elsewhere, and for a parent gone before prctl: poll
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    _die_with_parent(int(sys.argv[2]))
    # The protocol goes over the original stdin/stdout; whatever a parser prints goes to /dev/null.
    _out = os.dup(1)
    _null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(_null, 1)
    _worker(Connection(0, writable=False), Connection(_out, readable=False), int(sys.argv[1]))

