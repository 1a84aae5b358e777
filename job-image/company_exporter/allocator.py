"""glibc's malloc told to keep large buffers in mappings of their own, so freeing them frees memory.

glibc serves a block above its mmap threshold from a mapping of its own, unmapped on free. But
by default it raises that threshold to the size of every such block freed (up to 32 MiB): after
an export's first 8 MiB upload part was freed, each page of Arrow columns and each NDJSON chunk
came from the heap instead, whose holes stay resident. A 1M-row export crept from 170 MB to
205 MB that way; with the threshold fixed at 4 MiB it peaked at 188-190 MB for the same CPU time
(a lower threshold maps the ~1.4 MB NDJSON chunks too, and the page faults cost ~0.7 s of CPU).
"""

import ctypes

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
LARGE_BUFFER_BYTES = 4 * 1024 * 1024


def keep_large_buffers_mapped() -> bool:
    """Fixes the threshold for this process; False where the C library has no such setting."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))
