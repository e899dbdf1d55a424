"""Metadata: what scan_metadata finds, how it is reported, and copies that carry none of it."""

from __future__ import annotations

import csv
import io
import os
import stat
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from conftest import SHARED_IMAGES as SHARED
from imagefactory import (
    c2pa_app11,
    encode,
    exif,
    exif_with_thumbnail,
    iptc_app13,
    png_chunk,
    portrait,
    raw_png,
    with_jpeg_segment,
    with_png_chunks,
    xmp,
)
from postguard.clauses import CLAUSES
from postguard.findings import MetadataItem, Severity
from postguard.images.decode import decode_image
from postguard.images.metadata import (
    MetadataError,
    metadata_findings,
    scan_metadata,
    verify_clean,
    write_clean,
)

# Without the shared folder one placeholder case remains, and the `shared_images` fixture skips
# it with the reason (an empty parameter set would skip with no reason at all).
SHARED_FILES = (
    sorted(p.name for p in SHARED.iterdir() if p.suffix != ".tsv")
    if SHARED.is_dir()
    else ["(shared data absent)"]
)

PUPIL = "Amelia Jones"


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def by_field(items: list[MetadataItem]) -> dict[str, MetadataItem]:
    return {item.field: item for item in items}


def identifying(items: list[MetadataItem]) -> list[MetadataItem]:
    return [item for item in items if item.kind != "technical"]


def jpeg(**options: object) -> bytes:
    return encode(portrait(), "JPEG", quality=90, **options)


# ---------------------------------------------------------------- EXIF


@pytest.mark.parametrize(
    ("position", "shown"),
    [((51.5, -0.12), "GPS 51.50N, 0.12W"), ((-33.8568, 151.2153), "GPS 33.86S, 151.22E")],
)
def test_gps_is_a_location_rounded_to_two_decimals(
    tmp_path: Path, position: tuple[float, float], shown: str
) -> None:
    items = scan_metadata(write(tmp_path, "gps.jpg", jpeg(exif=exif(gps=position))))
    locations = [item for item in items if item.kind == "location"]
    assert [(item.field, item.value) for item in locations] == [("EXIF:GPS", shown)]


def test_gps_in_png_exif_chunk_is_found(tmp_path: Path) -> None:
    png = encode(portrait(), "PNG", exif=exif(gps=(53.8, -1.55)))
    assert b"eXIf" in png
    items = scan_metadata(write(tmp_path, "gps.png", png))
    assert [item.value for item in items if item.kind == "location"] == ["GPS 53.80N, 1.55W"]


def test_person_names_are_kept_raw_but_shown_as_initials(tmp_path: Path) -> None:
    block = exif(artist=PUPIL, xp_author="Ben Okafor", owner="Carla Dunn")
    items = by_field(scan_metadata(write(tmp_path, "names.jpg", jpeg(exif=block))))
    expected = {
        "EXIF:Artist": (PUPIL, "A. J."),
        "EXIF:XPAuthor": ("Ben Okafor", "B. O."),
        "EXIF:CameraOwnerName": ("Carla Dunn", "C. D."),
    }
    for field, (raw, initials) in expected.items():
        assert items[field].names == (raw,)
        assert items[field].value.endswith(initials)
        assert raw not in items[field].value
        assert items[field].kind == "identifying"


def test_free_text_is_searchable_but_shown_only_by_length(tmp_path: Path) -> None:
    caption = f"{PUPIL} wins the Year 5 relay"
    comment = b"UNICODE\x00" + "Well done Amelia".encode("utf-16-le")
    block = exif(description=caption, user_comment=comment)
    items = by_field(scan_metadata(write(tmp_path, "c.jpg", jpeg(exif=block))))
    assert items["EXIF:ImageDescription"].names == (caption,)
    shown = items["EXIF:ImageDescription"].value
    assert shown == f"ImageDescription: caption ({len(caption)} chars)"
    assert items["EXIF:UserComment"].names == ("Well done Amelia",)
    assert "Amelia" not in items["EXIF:UserComment"].value


def test_serial_numbers_are_reported_without_the_number(tmp_path: Path) -> None:
    items = by_field(scan_metadata(write(tmp_path, "s.jpg", jpeg(exif=exif(serial="SN4417")))))
    assert items["EXIF:BodySerialNumber"].names == ()
    assert "4417" not in items["EXIF:BodySerialNumber"].value


def test_embedded_exif_thumbnail_is_found(tmp_path: Path) -> None:
    thumbnail = encode(portrait()[::4, ::4].copy(), "JPEG")
    path = write(tmp_path, "t.jpg", jpeg(exif=exif_with_thumbnail(thumbnail, artist=PUPIL)))
    items = by_field(scan_metadata(path))
    assert "unredacted original" in items["EXIF:Thumbnail"].value
    assert items["EXIF:Artist"].names == (PUPIL,)


def test_blank_and_boilerplate_fields_are_not_reported(tmp_path: Path) -> None:
    block = exif(artist="    ", description="OLYMPUS DIGITAL CAMERA         ")
    path = write(tmp_path, "b.jpg", jpeg(exif=block, comment="CREATOR: gd-jpeg v1.0, quality = 90"))
    assert identifying(scan_metadata(path)) == []


def test_broken_exif_block_does_not_stop_the_scan(tmp_path: Path) -> None:
    broken = with_jpeg_segment(jpeg(), 0xE1, b"Exif\x00\x00MM\x00*\x00\x00\xff\xff" + bytes(30))
    broken = with_jpeg_segment(broken, 0xFE, f"Photo of {PUPIL}".encode())
    items = by_field(scan_metadata(write(tmp_path, "broken.jpg", broken)))
    assert items["JPEG:COM"].names == (f"Photo of {PUPIL}",)
    assert items["EXIF:Unreadable"].kind == "identifying"


# ---------------------------------------------------------------- XMP, IPTC, containers


def test_xmp_in_jpeg(tmp_path: Path) -> None:
    packet = xmp(
        people=(PUPIL, "Ben Okafor"),
        description=f"{PUPIL} at sports day",
        city="Leeds",
        creator="Mr Hall",
        gps=("53,48.0N", "1,33.0W"),
    )
    items = by_field(scan_metadata(write(tmp_path, "x.jpg", jpeg(xmp=packet))))
    assert items["XMP:PersonInImage"].names == (PUPIL, "Ben Okafor")
    assert items["XMP:PersonInImage"].value == "PersonInImage: A. J.; B. O."
    assert items["XMP:description"].names == (f"{PUPIL} at sports day",)
    assert items["XMP:City"].value == "City: Leeds"
    assert items["XMP:creator"].value == "creator: M. H."
    assert items["XMP:GPS"].kind == "location"
    assert items["XMP:GPS"].value == "GPS 53.80N, 1.55W"


@pytest.mark.parametrize("compressed", [False, True])
def test_xmp_in_png_itxt(tmp_path: Path, compressed: bool) -> None:
    packet = xmp(people=(PUPIL,))
    text = zlib.compress(packet) if compressed else packet
    payload = b"XML:com.adobe.xmp\x00" + bytes([int(compressed), 0]) + b"\x00\x00" + text
    png = with_png_chunks(encode(portrait(), "PNG"), png_chunk(b"iTXt", payload))
    items = by_field(scan_metadata(write(tmp_path, "x.png", png)))
    assert items["XMP:PersonInImage"].names == (PUPIL,)


def test_png_text_chunks(tmp_path: Path) -> None:
    png = with_png_chunks(
        encode(portrait(), "PNG"),
        png_chunk(b"tEXt", b"Author\x00" + PUPIL.encode()),
        png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"Year 6 trip to York")),
        png_chunk(b"iTXt", b"Description\x00\x00\x00en\x00\x00" + "Café trip".encode()),
        png_chunk(b"tEXt", b"Software\x00GIMP 2.10"),
    )
    items = by_field(scan_metadata(write(tmp_path, "t.png", png)))
    assert items["PNG:Author"].names == (PUPIL,)
    assert items["PNG:Comment"].names == ("Year 6 trip to York",)
    assert items["PNG:Description"].names == ("Café trip",)
    assert "PNG:Software" not in items


def test_webp_exif_and_xmp(tmp_path: Path) -> None:
    webp = encode(
        portrait(), "WEBP", exif=exif(gps=(51.5, -0.12)), xmp=xmp(people=(PUPIL,)), quality=80
    )
    items = by_field(scan_metadata(write(tmp_path, "w.webp", webp)))
    assert items["EXIF:GPS"].value == "GPS 51.50N, 0.12W"
    assert items["XMP:PersonInImage"].names == (PUPIL,)


def test_iptc_in_photoshop_segment(tmp_path: Path) -> None:
    app13 = iptc_app13(
        [
            (2, 80, b"Mr Hall"),
            (2, 120, f"{PUPIL} receives her award".encode()),
            (2, 90, b"Leeds"),
            (2, 25, b"awards"),
            (2, 25, b"Year 6"),
        ]
    )
    path = write(tmp_path, "i.jpg", with_jpeg_segment(jpeg(), 0xED, app13))
    items = by_field(scan_metadata(path))
    assert items["IPTC:By-line"].names == ("Mr Hall",)
    assert items["IPTC:Caption"].names == (f"{PUPIL} receives her award",)
    assert items["IPTC:City"].value == "City: Leeds"
    assert items["IPTC:Keywords"].names == ("awards", "Year 6")


def test_extended_xmp_split_over_segments_is_reassembled(tmp_path: Path) -> None:
    packet = xmp(people=(PUPIL,))
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    half = len(packet) // 2
    data = jpeg()
    for start, part in ((half, packet[half:]), (0, packet[:half])):  # stored out of order
        header = b"http://ns.adobe.com/xmp/extension/\x00" + guid
        payload = header + len(packet).to_bytes(4, "big") + start.to_bytes(4, "big") + part
        data = with_jpeg_segment(data, 0xE1, payload)
    items = by_field(scan_metadata(write(tmp_path, "ext.jpg", data)))
    assert items["XMP:PersonInImage"].names == (PUPIL,)


def test_imagemagick_raw_iptc_profile_in_png_is_searchable(tmp_path: Path) -> None:
    iim = b"\x1c\x02\x50\x00\x07Mr Hall\x1c\x02\x78\x00\x0cAmelia Jones"
    text = f"\niptc\n{len(iim):8d}\n{iim.hex()}\n".encode()
    png = with_png_chunks(
        encode(portrait(), "PNG"), png_chunk(b"tEXt", b"Raw profile type iptc\x00" + text)
    )
    items = by_field(scan_metadata(write(tmp_path, "im.png", png)))
    assert any(PUPIL in name for name in items["PNG:Raw profile type iptc"].names)


def test_jfif_thumbnail_is_found(tmp_path: Path) -> None:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"\x80\x80\x80"
    path = write(tmp_path, "j.jpg", with_jpeg_segment(jpeg(), 0xE0, app0))
    assert "JPEG:Thumbnail" in by_field(scan_metadata(path))
    assert "JPEG carries a JFIF thumbnail" in verify_clean(path)


def test_jpeg_comment(tmp_path: Path) -> None:
    items = by_field(scan_metadata(write(tmp_path, "c.jpg", jpeg(comment=f"{PUPIL}, 5B"))))
    assert items["JPEG:COM"].names == (f"{PUPIL}, 5B",)
    assert items["JPEG:COM"].value == f"COM: caption ({len(PUPIL) + 4} chars)"


def test_mpf_previews_are_found(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    second = Image.fromarray(portrait()[::-1])
    Image.fromarray(portrait()).save(buffer, "MPO", save_all=True, append_images=[second])
    items = by_field(scan_metadata(write(tmp_path, "m.jpg", buffer.getvalue())))
    assert items["JPEG:MPF"].kind == "identifying"


def test_c2pa_manifest_is_found(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jpg", with_jpeg_segment(jpeg(), 0xEB, c2pa_app11()))
    assert "C2PA:Manifest" in by_field(scan_metadata(path))


def test_data_after_the_end_of_a_jpeg_is_found(tmp_path: Path) -> None:
    path = write(tmp_path, "motion.jpg", jpeg() + b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    assert "JPEG:Trailer" in by_field(scan_metadata(path))


def test_same_text_in_exif_and_xmp_is_one_item(tmp_path: Path) -> None:
    caption = f"{PUPIL} at sports day"
    path = write(
        tmp_path, "d.jpg", jpeg(exif=exif(description=caption), xmp=xmp(description=caption))
    )
    captions = [item for item in scan_metadata(path) if caption in item.names]
    assert len(captions) == 1
    assert captions[0].field == "EXIF:ImageDescription"
    assert "also in XMP:description" in captions[0].value


def test_a_plain_camera_file_has_no_findings(tmp_path: Path) -> None:
    assert scan_metadata(write(tmp_path, "plain.jpg", jpeg())) == []
    assert scan_metadata(write(tmp_path, "plain.png", encode(portrait(), "PNG"))) == []


def test_unreadable_files_raise_metadata_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="not a readable image"):
        scan_metadata(write(tmp_path, "notes.jpg", b"just some text\n"))
    with pytest.raises(MetadataError, match="cannot read file"):
        scan_metadata(tmp_path / "missing.jpg")


# ---------------------------------------------------------------- findings


def test_findings_for_location_and_identifying_items() -> None:
    items = [
        MetadataItem("EXIF:GPS", "GPS 51.50N, 0.12W", "location"),
        MetadataItem("XMP:PersonInImage", "PersonInImage: A. J.", "identifying", (PUPIL,)),
        MetadataItem("EXIF:ImageDescription", "ImageDescription: caption (9 chars)", "identifying"),
        MetadataItem("EXIF:Thumbnail", "embedded thumbnail", "identifying"),
        MetadataItem("EXIF:BodySerialNumber", "serial number (6 chars)", "identifying"),
        MetadataItem("IPTC:City", "City: Leeds", "identifying"),
        MetadataItem("C2PA:Manifest", "C2PA manifest", "identifying"),
        MetadataItem("EXIF:Camera", "Canon EOS", "technical"),
    ]
    findings = metadata_findings("draft/photo.jpg", items)
    assert [f.rule for f in findings] == [
        "metadata.gps",
        "metadata.person_name",
        "metadata.caption",
        "metadata.thumbnail",
        "metadata.serial",
        "metadata.place",
        "metadata.other",
    ]
    gps, person = findings[0], findings[1]
    assert (gps.category, gps.severity, gps.clause) == (
        "location_metadata",
        Severity.ERROR,
        CLAUSES["location_metadata"],
    )
    assert (person.category, person.severity, person.clause) == (
        "identifying_metadata",
        Severity.WARNING,
        CLAUSES["identifying_metadata"],
    )
    assert person.location.image == "draft/photo.jpg"
    assert person.location.field == "metadata:XMP:PersonInImage"
    assert all(f.fixable and not f.fixed and f.explanation and f.suggestion for f in findings)
    assert all(PUPIL not in f.message for f in findings)
    assert "--out" in gps.suggestion


# ---------------------------------------------------------------- clean copies


def dirty_jpeg(tmp_path: Path) -> Path:
    thumbnail = encode(portrait()[::4, ::4].copy(), "JPEG")
    data = jpeg(
        exif=exif_with_thumbnail(thumbnail, artist=PUPIL),
        xmp=xmp(people=(PUPIL,), gps=("53,48.0N", "1,33.0W")),
        comment=PUPIL,
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    data = with_jpeg_segment(data, 0xED, iptc_app13([(2, 80, PUPIL.encode())]))
    data = with_jpeg_segment(data, 0xEB, c2pa_app11())
    source = tmp_path / "source"
    source.mkdir()
    return write(source, "dirty.jpg", data + b"trailing")


def test_write_clean_jpeg_carries_nothing(tmp_path: Path) -> None:
    original = dirty_jpeg(tmp_path)
    assert verify_clean(original)  # the checker sees the dirt it must remove
    assert {item.field for item in scan_metadata(original)} >= {
        "XMP:GPS",
        "EXIF:Artist",  # also PersonInImage and IPTC By-line: the same name, one item
        "JPEG:COM",
        "EXIF:Thumbnail",
        "C2PA:Manifest",
    }
    before = sorted(os.listdir(original.parent))
    out = tmp_path / "out"
    out.mkdir()
    decoded = decode_image(original)
    written = write_clean(decoded, decoded.pixels, out, "01-photo")
    assert written == out / "01-photo.jpg"
    assert verify_clean(written) == []
    assert scan_metadata(written) == []
    assert PUPIL.encode() not in written.read_bytes()
    assert sorted(os.listdir(original.parent)) == before
    assert os.listdir(out) == ["01-photo.jpg"]  # no temporary file left behind
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    again = decode_image(written).pixels
    assert float(np.abs(again.astype(int) - decoded.pixels.astype(int)).mean()) < 3.0


def test_write_clean_uses_the_given_pixels(tmp_path: Path) -> None:
    decoded = decode_image(write(tmp_path, "a.png", encode(portrait(), "PNG")))
    redacted = decoded.pixels.copy()
    redacted[50:150, 50:150] = 0
    written = write_clean(decoded, redacted, tmp_path, "redacted")
    assert written.suffix == ".png"
    np.testing.assert_array_equal(decode_image(written).pixels, redacted)


def test_write_clean_png_keeps_alpha_and_blanks_hidden_pixels(tmp_path: Path) -> None:
    rgba = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    rgba[:60, :, 3] = 0
    source = write(tmp_path, "logo.png", encode(rgba, "PNG", pnginfo=None))
    decoded = decode_image(source)
    out = tmp_path / "out"
    out.mkdir()
    written = write_clean(decoded, decoded.pixels, out, "logo")
    assert verify_clean(written) == []
    with Image.open(written) as image:
        assert image.mode == "RGBA"
        stored = np.asarray(image)
    np.testing.assert_array_equal(stored[:, :, 3], rgba[:, :, 3])
    assert not stored[:60, :, :3].any()  # nothing hides under the transparent band
    np.testing.assert_array_equal(stored[60:, :, :3], portrait()[60:])


def test_write_clean_webp(tmp_path: Path) -> None:
    webp = encode(portrait(), "WEBP", exif=exif(gps=(51.5, -0.12)), xmp=xmp(people=(PUPIL,)))
    decoded = decode_image(write(tmp_path, "w.webp", webp))
    out = tmp_path / "out"
    out.mkdir()
    written = write_clean(decoded, decoded.pixels, out, "w")
    assert written.suffix == ".webp"
    assert verify_clean(written) == []
    assert scan_metadata(written) == []


def test_write_clean_webp_with_alpha(tmp_path: Path) -> None:
    rgba = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    rgba[:, :50, 3] = 0
    decoded = decode_image(write(tmp_path, "a.webp", encode(rgba, "WEBP", lossless=True)))
    assert decoded.alpha is not None
    out = tmp_path / "out"
    out.mkdir()
    written = write_clean(decoded, decoded.pixels, out, "a")
    assert verify_clean(written) == []
    again = decode_image(written)
    assert again.alpha is not None and not again.alpha[:, :50].any()


def test_write_clean_refuses_bad_arguments(tmp_path: Path) -> None:
    decoded = decode_image(write(tmp_path, "a.png", encode(portrait(), "PNG")))
    with pytest.raises(ValueError, match="plain file name"):
        write_clean(decoded, decoded.pixels, tmp_path, "../escape")
    with pytest.raises(ValueError, match="uint8"):
        write_clean(decoded, decoded.pixels[:10], tmp_path, "small")
    with pytest.raises(MetadataError, match=r"could not write .*missing.*No such file"):
        write_clean(decoded, decoded.pixels, tmp_path / "missing", "x")


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize(
    ("name", "build", "fragment"),
    [
        ("c.jpg", lambda: jpeg(comment="hi there"), "JPEG segment COM"),
        ("e.jpg", lambda: jpeg(exif=exif(artist="Someone")), "exifread finds EXIF tags"),
        ("x.jpg", lambda: jpeg(xmp=xmp(people=("A B",))), "metadata signature found"),
        ("t.jpg", lambda: jpeg() + b"more", "bytes after the JPEG end-of-image"),
        (
            "i.png",
            lambda: encode(portrait(), "PNG", icc_profile=b"x" * 200),
            "Pillow finds metadata: icc_profile",
        ),
        (
            "t.png",
            lambda: with_png_chunks(encode(portrait(), "PNG"), png_chunk(b"tIME", bytes(7))),
            "PNG chunk tIME is not allowed",
        ),
        (
            "x.png",
            lambda: with_png_chunks(encode(portrait(), "PNG"), png_chunk(b"tEXt", b"a\x00b")),
            "Pillow finds PNG text chunks",
        ),
        ("e.webp", lambda: encode(portrait(), "WEBP", exif=exif(artist="A")), "announces EXIF"),
        ("g.gif", lambda: encode(portrait(), "GIF"), "not a JPEG, PNG or WebP"),
    ],
)
def test_verify_clean_finds_metadata(tmp_path: Path, name: str, build, fragment: str) -> None:
    problems = verify_clean(write(tmp_path, name, build()))
    assert any(fragment in problem for problem in problems), problems


def test_verify_clean_is_not_fooled_by_pixel_data(tmp_path: Path) -> None:
    """Stored (uncompressed) deflate puts pixel bytes verbatim in IDAT: "tEXt" there is fine."""
    row = b"\x00" + b"tEXteXIf8BIMExif\x00\x00<x:xmpmeta"
    png = raw_png(len(row) - 1, 4, row * 4, level=0)
    assert b"tEXt" in png and b"8BIM" in png
    assert verify_clean(write(tmp_path, "pixels.png", png)) == []


# ---------------------------------------------------------------- shared photos


def labels(shared_images: Path) -> list[dict[str, str]]:
    with (shared_images / "LABELS.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_shared_photos_with_gps_yield_a_location(shared_images: Path) -> None:
    with_gps = [row["file"] for row in labels(shared_images) if row["has_gps"] == "yes"]
    assert len(with_gps) >= 8
    missing = [
        name
        for name in with_gps
        if not any(i.kind == "location" for i in scan_metadata(shared_images / name))
    ]
    assert missing == []


def test_shared_photo_naming_its_subject(shared_images: Path) -> None:
    items = by_field(scan_metadata(shared_images / "fr__alex_lacamoire_test.jpg"))
    person = items["XMP:PersonInImage"]
    assert "Alex Lacamoire" in person.names
    assert person.value.startswith("PersonInImage: A. L.")
    assert "Lacamoire" not in " ".join(item.value for item in items.values())
    assert any("Alex Lacamoire" in name for name in items["EXIF:ImageDescription"].names)
    assert items["IPTC:City"].value.startswith("City: New York")


def test_shared_maker_note_owner_is_a_person(shared_images: Path) -> None:
    items = by_field(scan_metadata(shared_images / "pillow__flower.webp"))
    assert items["MakerNote:OwnerName"].names == ("Andreas Huggel",)
    assert items["MakerNote:OwnerName"].value == "OwnerName: A. H."
    assert metadata_findings("f.webp", [items["MakerNote:OwnerName"]])[0].rule == (
        "metadata.person_name"
    )


@pytest.mark.parametrize("name", SHARED_FILES)
def test_every_shared_photo_gets_a_verified_clean_copy(
    shared_images: Path, tmp_path: Path, name: str
) -> None:
    decoded = decode_image(shared_images / name)
    written = write_clean(decoded, decoded.pixels, tmp_path, "copy")
    assert verify_clean(written) == []
    assert scan_metadata(written) == []
    assert decode_image(written).pixels.shape == decoded.pixels.shape
