"""Find identifying metadata in an image file, and write copies of the image that carry none.

DESIGN.md §7. Before anything is stripped, the original is read three ways, because each reader
misses something: Pillow (EXIF in PNG/WebP/HEIF/AVIF, IPTC, XMP as stored by each format),
exifread (maker notes with camera owners and serial numbers, thumbnails) and
a walk over the raw bytes (every JPEG comment, extended XMP, MPF previews, C2PA manifests, PNG
text chunks, data after the end of the image). Names found there count as "a full name next to
an image", so they travel in `MetadataItem.names` to the full-name check; what a person sees in
`value` is only initials, a length or a rounded position.

The sanitised copy is re-encoded from decoded pixels with an allow-list of container parts, and
is verified three ways (exifread, Pillow, a structural byte walk) before it is renamed into place.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import exifread
import numpy as np
from PIL import ExifTags, Image, IptcImagePlugin

from postguard.atomic import atomic_output
from postguard.clauses import CLAUSES
from postguard.findings import Finding, Location, MetadataItem, Severity
from postguard.images.decode import DecodedImage

# exifread warns (through logging's last-resort handler, i.e. on stderr) about every odd maker
# note and about PNG/WebP files without EXIF. We report what matters ourselves; an application
# that configures logging still receives these records.
logging.getLogger("exifread").addHandler(logging.NullHandler())

MAX_SCAN_BYTES = 256 * 1024 * 1024
_MAX_TEXT_CHUNK = 1024 * 1024  # decompressed PNG text kept per chunk (zip-bomb guard)

# What a piece of metadata is; decides the finding's rule id and how its value is shown.
PERSON, CAPTION, PLACE, SERIAL, THUMBNAIL, OTHER = (
    "person_name",
    "caption",
    "place",
    "serial",
    "thumbnail",
    "other",
)

# EXIF tags (IFD0 and Exif IFD) that carry names or free text.
_EXIF_TAGS: dict[int, tuple[str, str]] = {
    0x010E: ("ImageDescription", CAPTION),
    0x013B: ("Artist", PERSON),
    0x8298: ("Copyright", CAPTION),
    0x9286: ("UserComment", CAPTION),
    0x9C9B: ("XPTitle", CAPTION),
    0x9C9C: ("XPComment", CAPTION),
    0x9C9D: ("XPAuthor", PERSON),
    0x9C9E: ("XPKeywords", CAPTION),
    0x9C9F: ("XPSubject", CAPTION),
    0xA430: ("CameraOwnerName", PERSON),
    0xA431: ("BodySerialNumber", SERIAL),
    0xA435: ("LensSerialNumber", SERIAL),
    0xC62F: ("CameraSerialNumber", SERIAL),
}
_GPS_POSITION_TAGS = frozenset({1, 2, 3, 4, 0x13, 0x14, 0x15, 0x16})

# XMP properties by local name (namespace prefixes vary between writers).
_XMP_ROLES: dict[str, str] = {
    "PersonInImage": PERSON,
    "PersonName": PERSON,
    "PersonDisplayName": PERSON,
    "Personality": PERSON,
    "creator": PERSON,
    "Artist": PERSON,
    "CaptionWriter": PERSON,
    "ImageCreatorName": PERSON,
    "CopyrightOwnerName": PERSON,
    "OwnerName": PERSON,
    "CameraOwnerName": PERSON,
    "description": CAPTION,
    "title": CAPTION,
    "Headline": CAPTION,
    "Instructions": CAPTION,
    "subject": CAPTION,
    "hierarchicalSubject": CAPTION,
    "TagsList": CAPTION,
    "rights": CAPTION,
    "Copyright": CAPTION,
    "Credit": CAPTION,
    "Source": CAPTION,
    "Event": CAPTION,
    "ImageDescription": CAPTION,
    "UserComment": CAPTION,
    "CameraFilename": CAPTION,
    "RawFileName": CAPTION,
    "City": PLACE,
    "State": PLACE,
    "Country": PLACE,
    "CountryCode": PLACE,
    "CountryName": PLACE,
    "ProvinceState": PLACE,
    "WorldRegion": PLACE,
    "Location": PLACE,
    "Sublocation": PLACE,
    "LocationName": PLACE,
    "CiAdrExtadr": PLACE,
    "CiAdrCity": PLACE,
    "CiAdrRegion": PLACE,
    "CiAdrPcode": PLACE,
    "CiAdrCtry": PLACE,
    "CiEmailWork": PLACE,
    "CiTelWork": PLACE,
    "SerialNumber": SERIAL,
    "BodySerialNumber": SERIAL,
    "LensSerialNumber": SERIAL,
    "RegionName": PERSON,
    "Unparsed": OTHER,
}
_MWG_REGIONS = "http://www.metadataworkinggroup.com/schemas/regions/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

# IPTC IIM datasets (record 2) that carry names, captions or places.
_IPTC_DATASETS: dict[tuple[int, int], tuple[str, str]] = {
    (2, 5): ("ObjectName", CAPTION),
    (2, 25): ("Keywords", CAPTION),
    (2, 40): ("Instructions", CAPTION),
    (2, 80): ("By-line", PERSON),
    (2, 90): ("City", PLACE),
    (2, 92): ("Sub-location", PLACE),
    (2, 95): ("Province-State", PLACE),
    (2, 100): ("CountryCode", PLACE),
    (2, 101): ("Country", PLACE),
    (2, 105): ("Headline", CAPTION),
    (2, 110): ("Credit", CAPTION),
    (2, 115): ("Source", CAPTION),
    (2, 116): ("Copyright", CAPTION),
    (2, 118): ("Contact", PERSON),
    (2, 120): ("Caption", CAPTION),
    (2, 122): ("Writer", PERSON),
}

# PNG text keywords (PNG spec §11.3.4); technical ones are skipped, unknown ones are OTHER.
_PNG_ROLES: dict[str, str] = {
    "Author": PERSON,
    "Title": CAPTION,
    "Description": CAPTION,
    "Comment": CAPTION,
    "Copyright": CAPTION,
    "Disclaimer": CAPTION,
    "Warning": CAPTION,
    "Source": CAPTION,
}
_PNG_KEYS = {key.lower(): key for key in _PNG_ROLES}
_PNG_TECHNICAL = re.compile(
    r"(Software|Creation Time|date:.*|icc:.*|exif|Raw profile type (exif|APP1|icc|icm))",
    re.IGNORECASE,
)

# Roles of the fields that are not plain text, by "<group>:<name>".
_SPECIAL_ROLES: dict[str, str] = {
    "EXIF:Thumbnail": THUMBNAIL,
    "EXIF:Unreadable": OTHER,
    "Photoshop:Thumbnail": THUMBNAIL,
    "HEIF:Thumbnail": THUMBNAIL,
    "JPEG:MPF": THUMBNAIL,
    "JPEG:Trailer": THUMBNAIL,
    "JPEG:Thumbnail": THUMBNAIL,
    "JPEG:COM": CAPTION,
    "C2PA:Manifest": OTHER,
}
_ROLE_TABLES: dict[str, dict[str, str]] = {
    "EXIF": {name: role for name, role in _EXIF_TAGS.values()},
    "MakerNote": {"OwnerName": PERSON, "SerialNumber": SERIAL},
    "XMP": _XMP_ROLES,
    "IPTC": {name: role for name, role in _IPTC_DATASETS.values()},
    "PNG": _PNG_ROLES,
}

# Places at the level of a town or country are shown; finer ones only by length.
_SHOWN_PLACES = frozenset(
    {"City", "State", "Country", "CountryCode", "CountryName", "ProvinceState", "Province-State"}
)

# Text cameras and encoders put in every file: not identifying, and reporting it cries wolf.
_BOILERPLATE = re.compile(
    r"(OLYMPUS DIGITAL CAMERA|SONY DSC|DIGITAL CAMERA|KODAK .*CAMERA|AppleMark|Screenshot"
    r"|CREATOR: gd-jpeg.*|File written by Adobe Photoshop.*|Generated by\s+IJG JPEG.*"
    r"|LEAD Technologies.*|Intel\(R\) JPEG Library.*|Created with GIMP|Optimized by JPEGmini.*"
    r"|Processed By eBay.*|Default)",
    re.IGNORECASE | re.DOTALL,
)

_XMP_PACKET = re.compile(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>", re.DOTALL)
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
_JUMBF = re.compile(rb"jumb.{4}jumd", re.DOTALL)
_DMS = re.compile(r"\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*")

_EXPLANATIONS: dict[str, str] = {
    "metadata.gps": "The photo records where it was taken. Published, it can lead someone to a "
    "pupil's school, home or regular route.",
    "metadata.person_name": "A person's name is stored inside the image file. Anyone who "
    "downloads the published photo can read it, which puts a name next to a face.",
    "metadata.caption": "A caption, comment or keyword is stored inside the image file and can "
    "be read by anyone who downloads it; such text often names the people shown.",
    "metadata.place": "A place name is stored inside the image file; it can reveal where a pupil "
    "was photographed.",
    "metadata.thumbnail": "A preview image is stored inside the file. It is not changed when the "
    "main picture is edited, so it can show faces that were blurred or cropped out.",
    "metadata.serial": "A camera serial number links this photo to every other photo taken with "
    "the same camera, including ones published elsewhere.",
    "metadata.other": "The file carries extra metadata that may identify people or places.",
}
_MESSAGES: dict[str, str] = {
    "metadata.gps": "GPS position in image metadata",
    "metadata.person_name": "person's name in image metadata",
    "metadata.caption": "caption or comment text in image metadata",
    "metadata.place": "place name in image metadata",
    "metadata.thumbnail": "embedded preview image in the file",
    "metadata.serial": "camera serial number in image metadata",
    "metadata.other": "identifying metadata in the file",
}
_SUGGESTION = "publish the sanitised copy written by --out, which carries no metadata"


class MetadataError(Exception):
    """The metadata of a file could not be read, or a clean copy could not be written safely."""


# ---------------------------------------------------------------------------- scanning


@dataclass
class _Collector:
    """Gathers what the readers find, merging repeats (EXIF and exifread, XMP packets)."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    locations: dict[str, MetadataItem] = field(default_factory=dict)
    special: dict[str, MetadataItem] = field(default_factory=dict)
    camera: str = ""

    def text(self, group: str, name: str, raw: str) -> None:
        value = " ".join(raw.replace("\x00", " ").split())
        if not re.search(r"\w\w", value):  # nothing that could be a name or a word
            return
        if _role(f"{group}:{name}") in (CAPTION, OTHER) and _BOILERPLATE.fullmatch(value):
            return
        values = self.texts.setdefault(f"{group}:{name}", [])
        if value not in values:
            values.append(value)

    def location(self, field_name: str, lat: float | None, lon: float | None) -> None:
        value = "GPS position (coordinates unreadable)"
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            value = (
                f"GPS {abs(lat):.2f}{'N' if lat >= 0 else 'S'}, "
                f"{abs(lon):.2f}{'E' if lon >= 0 else 'W'}"
            )
        if all(item.value != value for item in self.locations.values()):
            self.locations.setdefault(field_name, MetadataItem(field_name, value, "location"))

    def item(self, field_name: str, value: str) -> None:
        self.special.setdefault(field_name, MetadataItem(field_name, value, "identifying"))

    def items(self) -> list[MetadataItem]:
        """Locations first; a text stored in several places (EXIF, IPTC and XMP copies of one
        caption, as metadata tools keep them in sync) becomes one item, not three findings."""
        out = list(self.locations.values())
        merged: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for field_name, values in self.texts.items():
            merged.setdefault((_role(field_name), tuple(values)), []).append(field_name)
        for (role, values), fields in merged.items():
            fields.sort(key=_field_rank)
            value = _display(fields[0], list(values))
            if len(fields) > 1:
                value += f" (also in {', '.join(fields[1:])})"
            names = values if role != SERIAL else ()
            out.append(MetadataItem(fields[0], value, "identifying", names))
        out += self.special.values()
        if self.camera:
            out.append(MetadataItem("EXIF:Camera", self.camera, "technical"))
        return out


def scan_metadata(path: Path) -> list[MetadataItem]:
    """Everything in the original file at `path` that identifies a person, place or camera.

    Raises MetadataError only when the file cannot be read as an image at all; a damaged
    metadata block is reported as an item (or ignored), never raised.
    """
    try:
        size = path.stat().st_size
        if size > MAX_SCAN_BYTES:
            raise MetadataError(f"file too large to inspect ({size // 2**20} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read file ({exc.strerror or exc})") from exc
    found = _Collector()
    packets: list[bytes] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # size and damaged EXIF: see _scan_pillow_exif
            image = Image.open(io.BytesIO(data))
    except Exception as exc:  # unidentified, decompression bomb, broken header, ...
        raise MetadataError("not a readable image file") from exc
    with image:
        _scan_pillow_exif(image, found)
        _scan_iptc(image, found)
        _scan_photoshop(image, found)
        xmp = image.info.get("xmp")
        if xmp:
            packets.append(xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp))
        if image.info.get("thumbnails"):
            found.item("HEIF:Thumbnail", "HEIF thumbnail image: may show the unredacted original")
    _scan_exifread(data, found)
    if data.startswith(b"\xff\xd8"):
        packets += _scan_jpeg(data, found)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        packets += _scan_png(data, found)
    packets += [m.group() for m in _XMP_PACKET.finditer(data)]
    if _JUMBF.search(data):
        found.item(
            "C2PA:Manifest",
            "C2PA/JUMBF content-credentials manifest (may hold names, history, thumbnails)",
        )
    for packet in dict.fromkeys(packets):
        _scan_xmp(packet, found)
    return found.items()


def _scan_pillow_exif(image: Image.Image, found: _Collector) -> None:
    """Names, captions, serials, GPS and the thumbnail from EXIF, through Pillow (all formats)."""
    try:
        with warnings.catch_warnings(record=True) as damage:
            warnings.simplefilter("always")
            exif = image.getexif()
            ifd0 = dict(exif)
            sub = exif.get_ifd(ExifTags.IFD.Exif)
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
            ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except Exception:  # Pillow raises many types on damaged IFDs
        found.item("EXIF:Unreadable", "EXIF block present but unreadable")
        return
    if damage:  # Pillow warns and reads what it can: what it skipped may still hold names
        found.item("EXIF:Unreadable", "EXIF block is damaged (partly unreadable)")
    if not ifd0:
        return
    for tag, (name, _role_name) in _EXIF_TAGS.items():
        value = sub.get(tag, ifd0.get(tag))
        if value is not None:
            found.text("EXIF", name, _exif_text(tag, value))
    if _GPS_POSITION_TAGS & set(gps):
        found.location(
            "EXIF:GPS", _coordinate(gps.get(2), gps.get(1)), _coordinate(gps.get(4), gps.get(3))
        )
    if (ifd1.get(0x0201) and ifd1.get(0x0202)) or ifd1.get(0x0111):
        found.item("EXIF:Thumbnail", "embedded thumbnail: may show the unredacted original")
    camera = " ".join(_exif_text(0, ifd0.get(t, "")) for t in (0x010F, 0x0110)).strip()
    found.camera = " ".join(camera.split())


def _exif_text(tag: int, value: Any) -> str:
    """EXIF values as text: XP* tags are UTF-16LE, UserComment starts with a charset code."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        return str(value)
    if 0x9C9B <= tag <= 0x9C9F:
        return value.decode("utf-16-le", errors="replace")
    if tag == 0x9286:
        code, value = value[:8], value[8:]
        if code.startswith(b"UNICODE"):
            little = value[1:2] == b"\x00" or value[:2] == b"\xff\xfe"
            return value.decode("utf-16-le" if little else "utf-16-be", errors="replace")
        if code.startswith(b"JIS"):
            return value.decode("shift_jis", errors="replace")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _coordinate(value: Any, ref: Any) -> float | None:
    """Degrees from an EXIF GPS (degrees, minutes, seconds) triple; None if unusable."""
    try:
        parts = [float(v) for v in (value if isinstance(value, (tuple, list)) else [value])]
        degrees = sum(p / 60**i for i, p in enumerate(parts[:3]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if ref is None or degrees != degrees:  # no hemisphere, or a 0/0 rational (NaN)
        return None
    ref_text = ref.decode("latin-1") if isinstance(ref, bytes) else str(ref)
    return -degrees if ref_text.strip().upper()[:1] in ("S", "W") else degrees


def _scan_iptc(image: Image.Image, found: _Collector) -> None:
    """IPTC IIM (Photoshop APP13 in JPEG, tag 33723 in TIFF) through Pillow."""
    try:
        info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]
    except Exception:  # a damaged IPTC block is not worth failing the scan
        return
    if not info:
        return
    for key, (name, _role_name) in _IPTC_DATASETS.items():
        raw = info.get(key)
        for value in raw if isinstance(raw, list) else [raw] if raw else []:
            found.text("IPTC", name, _decode_text(value))


def _scan_photoshop(image: Image.Image, found: _Collector) -> None:
    """Photoshop image resources 0x0409/0x040C are thumbnails of the original."""
    resources = image.info.get("photoshop")
    if isinstance(resources, dict) and ({0x0409, 0x040C} & set(resources)):
        found.item("Photoshop:Thumbnail", "Photoshop thumbnail: may show the unredacted original")


def _scan_exifread(data: bytes, found: _Collector) -> None:
    """Maker notes (owner names, serial numbers) and thumbnails, which exifread decodes.

    Pillow stays the reader for the standard EXIF tags: it reads EXIF in every format we accept,
    where exifread misses PNG text profiles and header-less WebP EXIF (DESIGN.md §7).
    """
    try:
        tags = exifread.process_file(io.BytesIO(data), details=True, truncate_tags=False)
    except Exception:  # exifread raises many types on unusual files (see its issue tracker)
        return
    for key, tag in tags.items():
        group, _, name = key.partition(" ")
        if group != "MakerNote":
            continue
        if "OwnerName" in name:
            found.text("MakerNote", "OwnerName", str(tag))
        elif "SerialNumber" in name and "Format" not in name:
            # Canon, Nikon, Olympus and Fujifilm each name their serial fields differently
            found.text("MakerNote", "SerialNumber", str(tag))
    if tags.get("JPEGThumbnail"):
        found.item("EXIF:Thumbnail", "embedded thumbnail: may show the unredacted original")


def _decode_text(value: bytes) -> str:
    """UTF-8 when it decodes (most writers, whatever they declare), else Windows-1252."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", errors="replace")


def _scan_jpeg(data: bytes, found: _Collector) -> list[bytes]:
    """Comments, extended XMP, MPF, JUMBF and trailing data, from the JPEG segment list."""
    extended: dict[bytes, dict[int, bytes]] = {}
    end = None
    for marker, payload, offset in _jpeg_segments(data):
        if marker == 0xFE:
            found.text("JPEG", "COM", _decode_text(payload))
        elif marker == 0xE1 and payload.startswith(_XMP_EXTENSION):
            body = payload[len(_XMP_EXTENSION) :]
            part_at = int.from_bytes(body[36:40], "big")
            extended.setdefault(body[:32], {})[part_at] = body[40:]
        elif marker == 0xE0 and _jfif_thumbnail(payload):
            found.item("JPEG:Thumbnail", "JFIF thumbnail: may show the unredacted original")
        elif marker == 0xE2 and payload.startswith(b"MPF\x00"):
            found.item("JPEG:MPF", "MPF extra images (previews, depth or gain maps)")
        elif marker == 0xD9:
            end = offset + 2
            break
    if end is not None and "JPEG:MPF" not in found.special and len(data) - end > 16:
        found.item(
            "JPEG:Trailer",
            f"{len(data) - end} bytes after the image (may hold another image or a video)",
        )
    return [b"".join(parts[k] for k in sorted(parts)) for parts in extended.values()]


def _jfif_thumbnail(payload: bytes) -> bool:
    """APP0 can carry a thumbnail: JFIF with a non-zero thumbnail size, or a JFXX extension."""
    return payload.startswith(b"JFXX\x00") or (
        payload.startswith(b"JFIF\x00") and payload[12:14] not in (b"", b"\x00\x00")
    )


def _scan_png(data: bytes, found: _Collector) -> list[bytes]:
    """Text chunks (tEXt/zTXt/iTXt); XMP and ImageMagick raw profiles are passed on."""
    packets: list[bytes] = []
    for kind, payload in _png_chunks(data):
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        key, text = _png_text(kind, payload)
        if key == "XML:com.adobe.xmp":
            packets.append(text.encode("utf-8"))
        elif key.lower() == "raw profile type xmp":
            packets.append(_imagemagick_profile(text))
        elif key.lower().startswith("raw profile type"):
            if not _PNG_TECHNICAL.fullmatch(key):
                strings = re.findall(rb"[\x20-\x7e]{4,}", _imagemagick_profile(text))
                found.text("PNG", key, " | ".join(s.decode("ascii") for s in strings))
        elif key.lower().startswith("exif:gps"):
            found.location("PNG:GPS", None, None)
        elif not _PNG_TECHNICAL.fullmatch(key):
            found.text("PNG", _PNG_KEYS.get(key.lower(), key), text)
    return packets


def _png_text(kind: bytes, payload: bytes) -> tuple[str, str]:
    key, _, rest = payload.partition(b"\x00")
    name = key.decode("latin-1")
    try:
        if kind == b"tEXt":
            return name, rest.decode("latin-1")
        if kind == b"zTXt":
            return name, _inflate(rest[1:]).decode("latin-1")
        compressed = rest[:1] == b"\x01"
        _lang, _, rest = rest[2:].partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        return name, (_inflate(text) if compressed else text).decode("utf-8", errors="replace")
    except zlib.error:
        return name, "(compressed text that cannot be read)"


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, _MAX_TEXT_CHUNK)


def _imagemagick_profile(text: str) -> bytes:
    """ImageMagick stores profiles as "\\n<name>\\n<length>\\n<hex lines>"."""
    lines = text.strip().splitlines()
    try:
        return bytes.fromhex("".join(lines[2:]))
    except ValueError:
        return text.encode("utf-8", errors="replace")


def _scan_xmp(packet: bytes, found: _Collector) -> None:
    """Names, captions, places and GPS from one XMP packet.

    ElementTree does not fetch external entities, and expat 2.4.1+ (Python 3.11 ships 2.5)
    limits entity expansion, so a hostile packet cannot reach the network or exhaust memory.
    """
    try:
        root = ET.fromstring(packet.strip(b"\x00 \t\r\n"))
    except ET.ParseError:
        found.text("XMP", "Unparsed", packet.decode("utf-8", errors="replace"))
        return
    gps: dict[str, str] = {}
    for element in root.iter():
        namespace, local = _split(element.tag)
        if local in ("GPSLatitude", "GPSLongitude") and element.text:
            gps[local] = element.text
        elif local in _XMP_ROLES or (namespace == _MWG_REGIONS and local == "Name"):
            for value in _xmp_values(element):
                found.text("XMP", "RegionName" if local == "Name" else local, value)
        for attribute, value in element.attrib.items():
            namespace, local = _split(attribute)
            if local in ("GPSLatitude", "GPSLongitude"):
                gps[local] = value
            elif local in _XMP_ROLES or (namespace == _MWG_REGIONS and local == "Name"):
                found.text("XMP", "RegionName" if local == "Name" else local, value)
    if gps:
        lat, lon = (_xmp_coordinate(gps.get(f"GPS{axis}")) for axis in ("Latitude", "Longitude"))
        found.location("XMP:GPS", lat, lon)


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _xmp_values(element: ET.Element) -> list[str]:
    """The text of a simple property, or of each rdf:li of an array or language alternative."""
    items = [li.text or "" for li in element.iter(f"{{{_RDF}}}li")]
    return items if items else [element.text or ""]


def _xmp_coordinate(value: str | None) -> float | None:
    """XMP writes GPS as "DDD,MM,SSk" or "DDD,MM.mmk" (XMP spec part 2, GPSCoordinate)."""
    match = _DMS.fullmatch(value or "")
    if not match:
        return None
    degrees = sum(float(p) / 60**i for i, p in enumerate(match.groups()[:3]) if p)
    return -degrees if match.group(4) in ("S", "W") else degrees


def _role(field_name: str) -> str:
    group, _, name = field_name.partition(":")
    return _SPECIAL_ROLES.get(field_name) or _ROLE_TABLES.get(group, {}).get(name, OTHER)


def _field_rank(field_name: str) -> tuple[int, int]:
    """Order for naming merged fields: EXIF, IPTC, XMP; the standard property before aliases."""
    group, _, name = field_name.partition(":")
    groups = ("EXIF", "IPTC", "XMP")
    table = list(_ROLE_TABLES.get(group, {}))
    return (
        groups.index(group) if group in groups else len(groups),
        table.index(name) if name in table else len(table),
    )


def _display(field_name: str, values: list[str]) -> str:
    """What a person may see: initials for names, a length for free text, towns and countries."""
    name = field_name.partition(":")[2]
    role = _role(field_name)
    length = sum(len(v) for v in values)
    if role == PERSON:
        return f"{name}: " + "; ".join(_initials(v) for v in values)
    if role == PLACE and name in _SHOWN_PLACES:
        return f"{name}: " + "; ".join(values)[:80]
    if role == SERIAL:
        return f"{name}: serial number ({length} chars)"
    label = {CAPTION: "caption", PLACE: "place name"}.get(role, "text")
    return f"{name}: {label} ({length} chars)"


def _initials(name: str) -> str:
    return " ".join(f"{word[0].upper()}." for word in re.findall(r"\w+", name)) or "?"


# ---------------------------------------------------------------------------- findings


def metadata_findings(display_path: str, items: list[MetadataItem]) -> list[Finding]:
    """One finding per location or identifying item; technical items are not findings."""
    findings = []
    for item in items:
        if item.kind == "location":
            category, rule, severity = "location_metadata", "metadata.gps", Severity.ERROR
        elif item.kind == "identifying":
            category, severity = "identifying_metadata", Severity.WARNING
            rule = f"metadata.{_role(item.field)}"
        else:
            continue
        findings.append(
            Finding(
                rule=rule,
                category=category,
                severity=severity,
                message=f"{_MESSAGES[rule]}: {item.value}",
                clause=CLAUSES[category],
                location=Location(image=display_path, field=f"metadata:{item.field}"),
                explanation=_EXPLANATIONS[rule],
                suggestion=_SUGGESTION,
                fixable=True,
            )
        )
    return findings


# ---------------------------------------------------------------------------- clean copies


def write_clean(image: DecodedImage, pixels: np.ndarray, dest_dir: Path, stem: str) -> Path:
    """Re-encode `pixels` into `dest_dir/<stem>.<ext>` with no metadata; verified, then renamed.

    JPEG unless the source was PNG or WebP (same format back) or has transparency (PNG). The
    temporary file is hidden (".postguard-...") and only renamed into place once verify_clean
    finds nothing, so a half-written or unverified copy is never visible under its real name.
    """
    if stem in ("", ".", "..") or "/" in stem or os.sep in stem or "\x00" in stem:
        raise ValueError(f"output stem must be a plain file name, not {stem!r}")
    if pixels.shape != image.pixels.shape or pixels.dtype != np.uint8:
        raise ValueError(
            f"pixels must be {image.pixels.shape} uint8 like the decoded image, "
            f"got {pixels.shape} {pixels.dtype}"
        )
    fmt, ext, picture, options = _encoder(image, pixels)
    final = dest_dir / f"{stem}{ext}"
    try:
        with atomic_output(final) as temp:
            picture.save(temp, fmt, **options)
            problems = verify_clean(temp)
            if problems:
                raise MetadataError("the clean copy still carries metadata: " + "; ".join(problems))
    except OSError as exc:
        raise MetadataError(f"could not write {final} ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise MetadataError(f"could not encode {final.name} ({exc})") from exc
    return final


def _encoder(
    image: DecodedImage, pixels: np.ndarray
) -> tuple[str, str, Image.Image, dict[str, Any]]:
    """Pick the output format and build the picture; nothing but pixels goes in."""
    if image.alpha is not None:
        rgb = pixels.copy()
        # Pixels under full transparency are invisible but still stored: a hidden original
        # could survive there, so they are blanked.
        rgb[image.alpha == 0] = 0
        picture = Image.fromarray(np.dstack([rgb, image.alpha]), "RGBA")
    else:
        picture = Image.fromarray(pixels, "RGB")
    if image.format == "WEBP":
        return "WEBP", ".webp", picture, {"quality": 90, "lossless": False}
    if image.format == "PNG" or image.alpha is not None:
        return "PNG", ".png", picture, {}
    return "JPEG", ".jpg", picture, {"quality": 92, "subsampling": "4:2:0"}


# ---------------------------------------------------------------------------- verification

_SIGNATURES = (
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap/1.0/",
    b"<x:xmpmeta",
    b"Photoshop 3.0",
    b"8BIM",
    b"jumb",
    b"c2pa",
)
_PILLOW_ALLOWED_INFO = frozenset(
    {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
        "loop",
        "background",
        "duration",
        "timestamp",
    }
)
_JPEG_ALLOWED = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
    | {0xC4, 0xDB, 0xDD, 0xDA, 0xE0}
)
_BROKEN = 0x100  # not a JPEG marker: stands for "the segment structure breaks here"
_PNG_ALLOWED = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"sRGB"})
_WEBP_ALLOWED = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH"})
_VP8X_FLAGS = {0x20: "an ICC profile", 0x08: "EXIF", 0x04: "XMP", 0x02: "animation"}


def verify_clean(path: Path) -> list[str]:
    """Problems that make `path` unfit to publish as a metadata-free copy; empty means clean.

    Three independent checks (DESIGN.md §7): exifread finds no tags; Pillow sees no EXIF and
    no metadata in `info` or PNG text, and the file decodes; the container holds only the parts
    an image needs (JPEG segments, PNG chunks, WebP chunks walked one by one, so compressed
    pixel data that happens to contain "tEXt" or "8BIM" is not mistaken for metadata).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [f"cannot read {path.name} ({exc.strerror or exc})"]
    problems = _exifread_problems(data) + _pillow_problems(data) + _structure_problems(data)
    return list(dict.fromkeys(problems))


def _exifread_problems(data: bytes) -> list[str]:
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception as exc:  # fail closed: an unreadable answer is not a clean answer
        return [f"exifread could not check the file ({exc.__class__.__name__})"]
    if tags:
        return [f"exifread finds EXIF tags ({', '.join(sorted(tags)[:5])})"]
    return []


def _pillow_problems(data: bytes) -> list[str]:
    problems = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if len(image.getexif()):
                problems.append("Pillow finds EXIF data")
            extra = sorted(str(k) for k in image.info if k not in _PILLOW_ALLOWED_INFO)
            if extra:
                problems.append(f"Pillow finds metadata: {', '.join(extra)}")
            if getattr(image, "text", None):
                problems.append("Pillow finds PNG text chunks")
    except Exception as exc:  # the copy must decode, or it is not a safe copy of anything
        problems.append(f"the copy does not decode ({exc.__class__.__name__})")
    return problems


def _structure_problems(data: bytes) -> list[str]:
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_problems(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_problems(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_problems(data)
    return ["not a JPEG, PNG or WebP file"]


def _signature_problems(headers: bytes) -> list[str]:
    found = [sig.decode("latin-1").strip("\x00") for sig in _SIGNATURES if sig in headers]
    return [f"metadata signature found: {', '.join(found)}"] if found else []


def _jpeg_problems(data: bytes) -> list[str]:
    problems: list[str] = []
    headers = []
    end = None
    for marker, payload, offset in _jpeg_segments(data):
        if marker == 0xD9:
            end = offset + 2
            break
        if marker == _BROKEN:
            problems.append(f"JPEG structure is broken at byte {offset}")
            break
        if marker not in _JPEG_ALLOWED or (marker == 0xE0 and not payload.startswith(b"JFIF\0")):
            problems.append(f"JPEG segment {_marker_name(marker)} is not allowed")
        elif marker == 0xE0 and _jfif_thumbnail(payload):
            problems.append("JPEG carries a JFIF thumbnail")
        headers.append(payload)
    if end is None:
        problems.append("JPEG has no end-of-image marker")
    elif end < len(data):
        problems.append(f"{len(data) - end} bytes after the JPEG end-of-image marker")
    return problems + _signature_problems(b"".join(headers))


def _marker_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    return "COM" if marker == 0xFE else f"0xFF{marker:02X}"


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes, int]]:
    """(marker, payload, offset) for each JPEG marker segment, skipping entropy-coded data.

    Yields _BROKEN if the structure breaks, and 0xD9 (EOI) at the end of the image.
    """
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:
            yield _BROKEN, b"", pos
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            yield marker, b"", pos
            return
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # standalone markers
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            yield _BROKEN, b"", pos
            return
        yield marker, data[pos + 4 : pos + 2 + length], pos
        pos += 2 + length
        if marker == 0xDA:
            pos = _after_entropy_data(data, pos)


def _after_entropy_data(data: bytes, pos: int) -> int:
    """Offset of the next marker after a scan (0xFF00 is a stuffed byte, RSTn are in-scan)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) for each PNG chunk up to IEND; (b"", rest) if bytes follow IEND or the
    structure is broken."""
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        if len(payload) < length:
            yield b"", data[pos:]
            return
        yield kind, payload
        pos += 12 + length
        if kind == b"IEND":
            break
    if pos < len(data):
        yield b"", data[pos:]


def _png_problems(data: bytes) -> list[str]:
    problems: list[str] = []
    headers = []
    for kind, payload in _png_chunks(data):
        if kind == b"":
            problems.append(f"{len(payload)} bytes after the PNG end or a broken chunk")
        elif kind not in _PNG_ALLOWED:
            problems.append(f"PNG chunk {kind.decode('latin-1')} is not allowed")
        if kind != b"IDAT":
            headers.append(payload)
    return problems + _signature_problems(b"".join(headers))


def _webp_problems(data: bytes) -> list[str]:
    problems: list[str] = []
    end = 8 + int.from_bytes(data[4:8], "little")
    pos = 12
    while pos + 8 <= min(end, len(data)):
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        payload = data[pos + 8 : pos + 8 + size]
        if kind not in _WEBP_ALLOWED:
            problems.append(f"WebP chunk {kind.decode('latin-1').strip()} is not allowed")
        if kind == b"VP8X" and payload:
            problems += [
                f"WebP header announces {what}"
                for bit, what in _VP8X_FLAGS.items()
                if payload[0] & bit
            ]
            problems += _signature_problems(payload)
        pos += 8 + size + (size & 1)
    if len(data) != end:
        problems.append("WebP file size does not match its RIFF header")
    return problems
