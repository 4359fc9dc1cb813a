"""Code points and UTF-8 bytes: where each code point of a text begins in its UTF-8, without a Python
loop per character (offsets in the data are code points, as the W3C selectors count; Arrow holds UTF-8)."""

from __future__ import annotations

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
    starts = np.flatnonzero((raw & 0xC0) != 0x80)
    return np.append(starts, len(raw)).astype(np.int64, copy=False)


def encode(cps: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Code points (uint32) as UTF-8, and where each begins in it (code_point_starts)."""
    import numpy as np

    if not len(cps) or cps.max() < 0x80:
        return cps.astype(np.uint8).tobytes(), np.arange(len(cps) + 1, dtype=np.int64)
    data = cps.tobytes().decode("utf-32-le", "surrogatepass").encode("utf-8", "surrogatepass")
    return data, code_point_starts(data)


def decode(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes (uint8) as code points (uint32), and code_point_starts of the bytes."""
    import numpy as np

    starts = code_point_starts(data)
    if len(starts) == len(data) + 1:  # ASCII
        return data.astype(np.uint32), starts
    text = data.tobytes().decode("utf-8", "surrogatepass")
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4"), starts
