"""The one way this project writes a file or a folder: under a fresh private name, then renamed.

Every output (PNG, DICOM series, checkpoint, training log tables, reader-study CSV, cache entry)
goes through :func:`atomic_write` or :func:`atomic_folder`, so a crash never leaves half a file
and a planted name can never redirect a write:

* the temporary file is created by :func:`tempfile.mkstemp` in the target's folder, that is
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` with a random name, so an existing file or symlink there is
  never opened, let alone written through;
* it is then renamed over the target (``os.replace``), or, with ``overwrite=False``, hard-linked
  to it, which fails when anything (a file, a folder, a dangling symlink) already has that name.

Files get the usual ``0666 & ~umask`` mode rather than mkstemp's private 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object], *, overwrite: bool = True,
                 fsync: bool = True) -> Path:
    """Create ``path`` with the bytes ``write(file)`` puts into a binary file object.

    ``overwrite=False`` raises :class:`FileExistsError` when ``path`` exists (checked atomically,
    after the data is written). The temporary file is removed on any failure.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            write(f)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if err.filename is None:  # a failed write(): name the file it was for
            raise type(err)(err.errno, err.strerror, str(path)) from err
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _link_new(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if nothing has that name; ``tmp`` is gone afterwards."""
    try:
        os.link(tmp, path, follow_symlinks=False)  # atomic; never replaces an existing name
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "exists already", str(path)) from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # a file system without hard links: rename after a last check (a small race remains)
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "exists already", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, **kwargs) -> Path:
    return atomic_write(path, lambda f: f.write(data), **kwargs)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8", **kwargs) -> Path:
    """``text`` written as is (no newline translation) with ``encoding``."""
    return atomic_write_bytes(path, text.encode(encoding), **kwargs)


@contextlib.contextmanager
def atomic_folder(out: str | os.PathLike) -> Iterator[Path]:
    """Build a new folder ``out`` in a private temporary sibling, renamed into place on success.

    ``out`` must not exist or be an empty folder (the caller checks first, to fail early; the
    rename fails rather than replace a folder that gained files meanwhile). On an exception the
    temporary folder is removed and ``out`` is left as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        os.chmod(temp, 0o777 & ~_UMASK)
        yield temp
        if out.is_dir() and not out.is_symlink():
            out.rmdir()  # empty, else OSError: rename cannot replace a folder
        os.rename(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


PROBE_PREFIX = ".ldct-write-test."  # another process's probe may be seen while it exists: not content


def require_writable_folder(out: str | os.PathLike) -> Path:
    """Check, before any work, that folder ``out`` exists or can be created, and can be written.

    Raises :class:`InputError` with one line for a dangling symbolic link, a file (or a path under
    a file), and a read-only, immutable or otherwise unwritable place — found by creating and removing
    a private temporary file in ``out`` or in its nearest existing ancestor (permission bits do not
    tell: root ignores them, and they say nothing of read-only or immutable file systems).
    """
    from ldct_viewer.errors import InputError

    out = Path(out)
    probe = out
    while True:
        if os.path.islink(probe) and not probe.exists():
            where = "is" if probe == out else f"cannot be created: {probe} is"
            raise InputError(f"{out}: {where} a dangling or looping symbolic link")
        if probe.exists() or probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        where = "exists and is not a folder" if probe == out else f"cannot be created: {probe} is not a folder"
        raise InputError(f"{out}: {where}")
    try:
        fd, name = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as err:
        where = "cannot be written" if probe == out else f"cannot be created in {probe}"
        raise InputError(f"{out}: {where} ({err.strerror or err})") from None
    return out


def require_new_folder(out: str | os.PathLike) -> Path:
    """Check, before any work, that :func:`atomic_folder` can create ``out``: writable (see
    :func:`require_writable_folder`), absent or an empty real folder (not a symbolic link, which the
    final rename could not replace), with a writable parent. Raises :class:`InputError`."""
    from ldct_viewer.errors import InputError

    out = require_writable_folder(Path(out).expanduser())
    if os.path.islink(out):
        raise InputError(f"{out}: is a symbolic link; give a new folder or the linked folder itself")
    if out.exists():
        if not out.is_dir() or any(not p.name.startswith(PROBE_PREFIX) for p in out.iterdir()):
            raise InputError(f"{out}: output folder exists and is not empty")
        require_writable_folder(out.absolute().parent)  # the finished folder is renamed over it
    return out
