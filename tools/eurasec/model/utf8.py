"""Code points and UTF-8 bytes: where each code point of a text begins in its UTF-8, without a Python
loop per character (offsets in the data are code points, as the W3C selectors count; Arrow holds UTF-8)."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def code_point_starts(data: bytes | np.ndarray) -> np.ndarray:
    """int64, one more than the code points of the UTF-8 `data`: the byte at which each code point
    begins, and the length of the data at the end."""
    import numpy as np

    raw = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    if not len(raw) or raw.max() < 0x80:  # ASCII: one byte per code point
        return np.arange(len(raw) + 1, dtype=np.int64)
    # Fresh memory is dear (a first touch of a page costs more than the work done in it): one table made,
    # the end included by a lead byte appended to the mask, not by copying the table to append it.
    lead = np.empty(len(raw) + 1, dtype=bool)
    np.not_equal(raw & 0xC0, 0x80, out=lead[:-1])
    lead[-1] = True
    return np.flatnonzero(lead).astype(np.int64, copy=False)


_CODECS = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}


def code_points(text: str) -> np.ndarray:
    """The code points of a text in the narrowest of uint8, uint16 (no surrogate: none in a decoded text
    but a lone one, kept by surrogatepass, which takes uint32) and uint32: fresh memory is dear."""
    import numpy as np

    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    wide = text.encode("utf-16-le", "surrogatepass")
    if len(wide) == 2 * len(text):  # no pairs: every code point below U+10000
        narrow = np.frombuffer(wide, dtype="<u2")
        if not ((narrow >= 0xD800) & (narrow < 0xE000)).any():
            return narrow
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def text_of(cps: np.ndarray) -> str:
    """The text of code points, whichever of the widths code_points gives (a uint16 holds no surrogate)."""
    return codecs.decode(cps.data, _CODECS[cps.dtype.itemsize], "surrogatepass")


def narrowest(cps: np.ndarray) -> np.ndarray:
    """The same code points in the narrowest width that holds them (see code_points)."""
    import numpy as np

    top = int(cps.max()) if len(cps) else 0
    if top < 0x100:
        return cps.astype(np.uint8, copy=False)
    if top < 0xD800:
        return cps.astype("<u2", copy=False)
    return cps


def encode(cps: np.ndarray) -> tuple[bytes | np.ndarray, np.ndarray | None]:
    """Code points (uint8, uint16 or uint32, as code_points gives) as UTF-8 (bytes, or for ASCII the uint8
    array of them), and where each begins in it (code_point_starts, as int32 while that holds it); None for
    ASCII, where each begins at its own index (no table of a million offsets is made to say so)."""
    import numpy as np

    if not len(cps) or cps.max() < 0x80:
        return cps.astype(np.uint8, copy=False), None  # the bytes themselves (a buffer), not a copy of them
    data = text_of(cps).encode("utf-8", "surrogatepass")
    width = np.ones(len(cps), dtype=np.uint8)  # the UTF-8 bytes of each code point, summed into the table
    for above in (0x7F, 0x7FF, 0xFFFF):
        width += cps > above
    # int32 while the offsets fit (half the memory): a caller takes the few it needs as int64
    kind = np.int32 if len(data) < 2**31 else np.int64
    starts = np.empty(len(cps) + 1, dtype=kind)
    starts[0] = 0
    np.cumsum(width, dtype=kind, out=starts[1:])
    return data, starts


def decode(data: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """UTF-8 bytes (uint8) as code points (as code_points gives them), and code_point_starts of the bytes;
    None for ASCII."""
    if not len(data) or data.max() < 0x80:
        return data, None  # ASCII: the bytes are the code points
    return code_points(data.tobytes().decode("utf-8", "surrogatepass")), code_point_starts(data)
