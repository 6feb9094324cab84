"""Writing a figure without leaving a half-written file (imported by the plot scripts).

save(fig, path, script, **savefig_kwargs) renders the figure to a temporary file beside `path`,
fsyncs it and renames it into place, so a reader sees the old file or the new one, never a
0-byte or cut one. When that fails (a full disk, a read-only or missing directory) the temporary
file is removed and the script exits with one sentence naming the file and the reason (exit 1),
not a Python traceback.
"""
import os
import sys


def save(fig, path, script, **kwargs):
    path = str(path)
    directory = os.path.dirname(os.path.abspath(path))
    base, ext = os.path.splitext(os.path.basename(path))
    tmp = os.path.join(directory, ".%s%s.tmp.%d%s" % (base, ext, os.getpid(), ext))
    try:
        with open(tmp, "wb") as f:
            fig.savefig(f, format=(ext[1:] or "png"), **kwargs)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        sys.exit("%s: cannot write %s: %s" % (script, path, e.strerror or e))
