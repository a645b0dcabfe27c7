"""Files in and out, so that nothing is lost: a crash, a `kill -9` or a full disk never leaves half a key
behind, an output never lands on an input, and a folder that holds a sheet is replaced as a whole or not at all.

- Every output is written to a temporary file beside it and renamed into place (`atomic_write`); a folder
  of outputs is built beside its destination and swapped in (`replace_folder`). Temporaries carry the
  writer's process id, so the next run removes those of a run that died (and only those).
- Outputs get the user's normal permissions (0666 less the umask), not mkstemp's 0600.
- Inputs are read with `read_regular`: a FIFO or a device is refused (it would block or never end) and a
  file is refused by its size before it is read.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterable

# Names of temporaries: .NAME.exgen-PID-RANDOM.tmp (files), .NAME.exgen-new-PID-RANDOM / -old- (folders).
_TEMP = re.compile(r"^\.(?P<name>.+)\.exgen-(?:(?P<kind>new|old)-)?(?P<pid>\d+)-[^.]+(?:\.tmp)?$")


_CLEANED: set[str] = set()


class OutputRefused(ValueError):
    """An output that would overwrite an input, or replace a sheet without --force."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_strays(folder: Path, name: str | None = None) -> None:
    """Remove temporaries that a dead exgen run left in `folder` (for one output `name`, or all): a file or
    a half-built new folder is deleted; an old folder whose destination is missing (killed mid-swap) is
    moved back, so the previous set reappears."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or (name is not None and m["name"] != name) or _alive(int(m["pid"])):
            continue
        path = Path(entry.path)
        if m["kind"] == "old" and not (Path(folder) / m["name"]).exists():
            os.replace(path, Path(folder) / m["name"])
        elif entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def atomic_write(path: Path, text: str) -> None:
    """Write `text` (UTF-8, LF) to `path`: all of it or, on any failure, the previous file untouched."""
    path = Path(path)
    tmp = _write_temp(path, text, durable=True)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_all(items: Iterable[tuple[Path, str]]) -> None:
    """`atomic_write` for many files (a class's feedback files): every file is written to its temporary,
    the temporaries are fsynced together (threads: the file system commits them in a few journal
    transactions instead of one per file), and only then renamed into place — so a failure anywhere leaves
    every previous file untouched, and a thousand files cost about what a few fsyncs do (issue 12: one
    fsync per feedback file took ten times as long as grading)."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in items:
            path = Path(path)
            temps.append((_write_temp(path, text, durable=False), path))
        if len(temps) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(_fsync, [tmp for tmp, _ in temps]))
        elif temps:
            _fsync(temps[0][0])
        for i, (tmp, path) in enumerate(temps):
            os.replace(tmp, path)
            temps[i] = ("", path)
    except BaseException:
        for tmp, _ in temps:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
        raise


def _fsync(name: str) -> None:
    fd = os.open(name, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, text: str, *, durable: bool) -> str:
    """`text` in a new temporary file beside `path` (fsynced when `durable`); its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path.parent) not in _CLEANED:  # once per folder and run: a thousand feedback files, one scan
        clean_strays(path.parent)
        _CLEANED.add(str(path.parent))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.exgen-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(text)
            if durable:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def replace_folder(out: Path, build: Callable[[Path], None], *, force: bool, ours: Callable[[str], bool]) -> None:
    """Build a set of outputs in a new folder beside `out` (`build(folder)` writes into it), then put it in
    `out`'s place in one rename. An existing `out` that holds any of our outputs is replaced only with
    `force`, and only when everything in it is ours (`ours(name)`), so no file of the user's is deleted.
    A `kill -9` at any point leaves the previous set or the new one (after the next run's clean-up)."""
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_strays(out.parent, out.name)
    existing = sorted(os.listdir(out)) if out.is_dir() else None
    if out.exists() and existing is None:
        raise OutputRefused(f"{out} exists and is not a folder")
    if existing:
        mine = [n for n in existing if ours(n)]
        foreign = [n for n in existing if not ours(n)]
        if mine and not force:
            raise OutputRefused(f"{out} already holds exgen's output ({', '.join(mine[:4])}); use --force to replace "
                                "it, or choose a new folder")
        if mine and foreign:
            raise OutputRefused(f"{out} also holds files exgen did not write ({', '.join(foreign[:4])}); exgen "
                                "replaces its output only in a folder of its own")
    new = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.exgen-new-{os.getpid()}-"))
    try:
        os.chmod(new, 0o777 & ~_umask())
        build(new)
        if existing and not any(ours(n) for n in existing):
            for entry in sorted(new.iterdir()):  # a folder of the user's own files: add ours beside them
                os.replace(entry, out / entry.name)
            new.rmdir()
        elif existing:
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.exgen-old-{os.getpid()}-"))
            os.replace(out, old)       # (rename onto the empty folder mkdtemp made)
            os.replace(new, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(new, out)       # onto a missing or empty folder
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def refuse_overlap(outputs: Iterable[Path | None], inputs: Iterable[Path]) -> None:
    """Refuse to write an output onto an input, or two outputs onto one file (paths resolved, symlinks and
    hard links included).

    Each path is looked up once (an existing file by device and inode, as `os.path.samefile` compares them;
    a missing one by its absolute path), so a thousand feedback files cost a thousand stats, not a million."""
    inputs = [Path(p) for p in inputs]
    known: dict[tuple, tuple[Path, str]] = {}
    for path in inputs:
        known.setdefault(_identity(path), (path, "an input"))
    for out in (Path(o) for o in outputs if o is not None):
        ident = _identity(out)
        if ident in known:
            other, role = known[ident]
            raise OutputRefused(f"refusing to write {out}: it is {role} ({other}); choose another path")
        known[ident] = (out, "another output")


def _identity(path: Path) -> tuple:
    """Equal for two paths exactly when `os.path.samefile` says they are one file, or (either missing) when
    their absolute paths are equal."""
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.abspath(path))
    return ("file", info.st_dev, info.st_ino)


def read_regular(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; a FIFO, a device or a larger file is refused
    (OSError with a one-line strerror) without blocking and before reading."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file (a folder, FIFO or device cannot be a {what})")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit // 1024} KiB, too large for a {what}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit // 1024} KiB, too large for a {what}")
        return data
    finally:
        os.close(fd)
