"""Real image files for tests, built at test time from scikit-image's public-domain astronaut.

Every file is produced by Pillow or assembled byte by byte following the format specifications
(EXIF/TIFF, IPTC IIM inside Photoshop APP13, JUMBF in APP11, PNG chunks), so the code under test
reads exactly what a camera or an editor would have written; nothing is mocked.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
from PIL import Image
from skimage import data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@cache
def _astronaut() -> np.ndarray:
    pixels = data.astronaut()
    pixels.flags.writeable = False
    return pixels


def portrait() -> np.ndarray:
    """A 300x200 (HxW) crop around the astronaut's face: not square, so transposes show."""
    return np.ascontiguousarray(_astronaut()[0:300, 130:330])


def stored_for(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixel array a camera stores for `upright` under EXIF Orientation `orientation`.

    Written from the EXIF 2.32 definition (where the stored 0th row and 0th column belong on
    screen), not from Pillow's transpose table, so that a wrong table would fail the tests.
    """
    flips = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],  # 0th row top, 0th column right
        3: lambda a: a[::-1, ::-1],  # bottom, right
        4: lambda a: a[::-1, :],  # bottom, left
        5: lambda a: a.transpose(1, 0, 2),  # 0th row left, 0th column top
        6: lambda a: np.rot90(a, 1),  # right, top
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # right, bottom
        8: lambda a: np.rot90(a, -1),  # left, bottom
    }
    return np.ascontiguousarray(flips[orientation](upright))


def encode(pixels: np.ndarray, fmt: str, **options: object) -> bytes:
    """`pixels` encoded by Pillow as `fmt` with the given save options."""
    buffer = io.BytesIO()
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[pixels.ndim if pixels.ndim == 2 else pixels.shape[2]]
    Image.fromarray(pixels, mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def exif(
    *,
    orientation: int | None = None,
    artist: str | None = None,
    description: str | None = None,
    xp_author: str | None = None,
    gps: tuple[float, float] | None = None,
    user_comment: bytes | None = None,
    owner: str | None = None,
    serial: str | None = None,
) -> Image.Exif:
    """An EXIF block as a camera or a photo manager writes it."""
    block = Image.Exif()
    if orientation is not None:
        block[0x0112] = orientation
    if artist is not None:
        block[0x013B] = artist
    if description is not None:
        block[0x010E] = description
    if xp_author is not None:
        block[0x9C9D] = xp_author.encode("utf-16-le") + b"\x00\x00"
    if gps is not None:
        block[0x8825] = _gps_ifd(*gps)
    sub: dict[int, object] = {}
    if user_comment is not None:
        sub[0x9286] = user_comment
    if owner is not None:
        sub[0xA430] = owner
    if serial is not None:
        sub[0xA431] = serial
    if sub:
        block[0x8769] = sub
    return block


def _gps_ifd(lat: float, lon: float) -> dict[int, object]:
    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round((value - degrees - minutes / 60) * 3600, 4)
        return (float(degrees), float(minutes), seconds)

    return {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}


def exif_with_thumbnail(thumbnail: bytes, artist: str = "Jane Smith") -> bytes:
    """A little-endian EXIF block whose IFD1 holds a JPEG thumbnail (Pillow cannot write one).

    Layout: TIFF header | IFD0 (Artist) | IFD1 (Compression, JPEGInterchangeFormat, ...Length)
    | the artist string | the thumbnail bytes.
    """
    name = artist.encode("ascii") + b"\x00"
    assert len(name) > 4, "short values would be stored inline"
    ifd0_at, ifd1_at = 8, 8 + 18
    name_at = ifd1_at + 42
    thumb_at = name_at + len(name)

    def entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
        return struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")

    ifd0 = (
        struct.pack("<H", 1)
        + entry(0x013B, 2, len(name), struct.pack("<I", name_at))
        + struct.pack("<I", ifd1_at)
    )
    ifd1 = (
        struct.pack("<H", 3)
        + entry(0x0103, 3, 1, struct.pack("<H", 6))
        + entry(0x0201, 4, 1, struct.pack("<I", thumb_at))
        + entry(0x0202, 4, 1, struct.pack("<I", len(thumbnail)))
        + struct.pack("<I", 0)
    )
    assert len(ifd0) == 18 and len(ifd1) == 42 and ifd0_at == 8
    header = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", ifd0_at)
    return header + ifd0 + ifd1 + name + thumbnail


def xmp(
    *,
    people: tuple[str, ...] = (),
    description: str | None = None,
    city: str | None = None,
    creator: str | None = None,
    gps: tuple[str, str] | None = None,
) -> bytes:
    """An XMP packet in the shape Lightroom / Photo Mechanic write (arrays and attributes)."""
    attributes = f' photoshop:City="{city}"' if city else ""
    if gps:
        attributes += f' exif:GPSLatitude="{gps[0]}" exif:GPSLongitude="{gps[1]}"'
    body = ""
    if people:
        items = "".join(f"<rdf:li>{p}</rdf:li>" for p in people)
        body += f"<Iptc4xmpExt:PersonInImage><rdf:Bag>{items}</rdf:Bag></Iptc4xmpExt:PersonInImage>"
    if description:
        body += (
            "<dc:description><rdf:Alt>"
            f'<rdf:li xml:lang="x-default">{description}</rdf:li>'
            "</rdf:Alt></dc:description>"
        )
    if creator:
        body += f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        f"{attributes}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def with_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """`jpeg` with one more marker segment right after SOI."""
    assert jpeg[:2] == b"\xff\xd8"
    segment = b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def iptc_app13(datasets: list[tuple[int, int, bytes]]) -> bytes:
    """An APP13 payload: Photoshop image resource 0x0404 holding IPTC IIM records (UTF-8)."""
    records = [(1, 90, b"\x1b%G"), *datasets]
    iim = b"".join(
        b"\x1c" + bytes([record, dataset]) + struct.pack(">H", len(value)) + value
        for record, dataset, value in records
    )
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    return b"Photoshop 3.0\x00" + resource + iim + (b"\x00" if len(iim) % 2 else b"")


def c2pa_app11() -> bytes:
    """An APP11 payload carrying the start of a C2PA JUMBF superbox (jumb > jumd "c2pa")."""
    description = b"c2pa" + bytes(12) + b"\x03" + b"c2pa\x00"
    jumd = struct.pack(">I", 8 + len(description)) + b"jumd" + description
    jumb = struct.pack(">I", 8 + len(jumd)) + b"jumb" + jumd
    return b"JP" + b"\x00\x01" + b"\x00\x00\x00\x01" + jumb


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def with_png_chunks(png: bytes, *chunks: bytes) -> bytes:
    """`png` with extra chunks inserted just before IEND."""
    assert png.endswith(png_chunk(b"IEND", b""))
    return png[:-12] + b"".join(chunks) + png[-12:]


def raw_png(width: int, height: int, rows: bytes, level: int = 6) -> bytes:
    """A greyscale PNG assembled by hand from filtered scanlines (`rows` includes filter bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows, level))
        + png_chunk(b"IEND", b"")
    )


def bomb_png(width: int = 40000, height: int = 40000) -> bytes:
    """A 100-byte PNG whose header claims a `width` x `height` RGB canvas."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def animation(fmt: str, frames: int = 3) -> bytes:
    """An animated GIF / APNG / WebP of `frames` different frames."""
    base = portrait()[:64, :64]
    images = [Image.fromarray(np.roll(base, 8 * i, axis=1)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()
