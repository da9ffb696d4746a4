"""Format and size of a live frame, read from its header before anything is decoded.

In:  the bytes of one frame as a live client sends it (JPEG, or WebP).
Out: `frame_size` gives (format, width, height); `check_frame` raises `InputError` for anything
     that is not a JPEG or WebP image, and `FrameTooLarge` when the header announces more pixels
     than `MAX_FRAME_SIDE` / `MAX_FRAME_PIXELS` allow. A few hundred compressed bytes can claim
     20000x20000 px, gigabytes once decoded: the limit must be applied here, not after decoding.
"""

from __future__ import annotations

import struct

from .errors import InputError

# A 4K camera's frame, upright or on its side; the live page sends far smaller frames.
MAX_FRAME_SIDE = 3840
MAX_FRAME_PIXELS = 3840 * 2160
_NOT_AN_IMAGE = "the frame is not a readable JPEG image (send JPEG or WebP frames)"
# JPEG start-of-frame markers (baseline, progressive, lossless, ...), not DHT/JPG/DAC.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class FrameTooLarge(InputError):
    """The frame's header announces more pixels than a live frame may have."""


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first start-of-frame segment of a JPEG."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            break
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    raise InputError(_NOT_AN_IMAGE)


def _webp_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a WebP image (lossy VP8, lossless VP8L or extended VP8X)."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise InputError(_NOT_AN_IMAGE)


def frame_size(data: bytes) -> tuple[str, int, int]:
    """("jpeg" or "webp", width, height) from the header; InputError for other data."""
    if not data:
        raise InputError("empty frame: send one JPEG image per message")
    if data[:3] == b"\xff\xd8\xff":
        return ("jpeg", *_jpeg_size(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    raise InputError(_NOT_AN_IMAGE)


def check_frame(data: bytes) -> tuple[int, int]:
    """(width, height) of an acceptable frame; InputError or FrameTooLarge otherwise."""
    _, width, height = frame_size(data)
    if width < 1 or height < 1:
        raise InputError(_NOT_AN_IMAGE)
    if max(width, height) > MAX_FRAME_SIDE or width * height > MAX_FRAME_PIXELS:
        raise FrameTooLarge(
            f"the frame is {width}x{height} px, too large for live coaching: send frames of at "
            f"most {MAX_FRAME_SIDE} px a side and {MAX_FRAME_PIXELS // 1_000_000} megapixels "
            "(the live page sends 640 px)"
        )
    return width, height
