"""Writing a file so that a failure never leaves it half-written.

The new text goes to a temporary file in the same folder, is flushed to disk, and then
replaces the old file in one step (os.replace). A full disk, an error or Ctrl-C half-way
leaves the old file as it was, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Replace ``path``'s contents with ``text`` (UTF-8, "\\n" line ends), atomically; the
    file keeps its permissions, a new one gets the usual ones."""
    path = Path(path)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not error.filename:  # say which file it was
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise
