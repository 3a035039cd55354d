"""Reading what the tests need out of a PDF with pikepdf: the XMP identification, the fonts,
the embedded files and the text (through each font's ToUnicode map)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pikepdf

HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def open_pdf(content: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(content))


def xmp(pdf: pikepdf.Pdf) -> dict[str, str]:
    with pdf.open_metadata() as meta:
        return {key: str(meta[key]) for key in meta}


def fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every font dictionary used on any page or in any form XObject, and the descendant fonts
    of composite (Type0) fonts."""
    seen: set[tuple[int, int]] = set()

    def walk(resources: pikepdf.Object) -> Iterator[pikepdf.Dictionary]:
        if not isinstance(resources, pikepdf.Dictionary):
            return
        for font in resources.get("/Font", pikepdf.Dictionary()).values():
            key = font.objgen
            if key != (0, 0) and key in seen:
                continue
            seen.add(key)
            yield font
            yield from font.get("/DescendantFonts", pikepdf.Array())
        for xobject in resources.get("/XObject", pikepdf.Dictionary()).values():
            if xobject.get("/Subtype") == "/Form":
                yield from walk(xobject.get("/Resources"))

    for page in pdf.pages:
        yield from walk(page.obj.get("/Resources"))


def _unicode_map(font: pikepdf.Dictionary) -> dict[int, str]:
    """Glyph code → text from the font's ToUnicode CMap (bfchar and bfrange entries)."""
    cmap = font.ToUnicode.read_bytes()
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        codes = HEX.findall(block)
        for source, target in zip(codes[::2], codes[1::2], strict=True):
            mapping[int(source, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for line in block.strip().splitlines():
            low, high, target = HEX.findall(line)[:3]
            start = int.from_bytes(bytes.fromhex(target.decode()), "big")
            for offset in range(int(high, 16) - int(low, 16) + 1):
                mapping[int(low, 16) + offset] = chr(start + offset)
    return mapping


def page_texts(pdf: pikepdf.Pdf) -> list[str]:
    """The text of each page: every string shown, in content order, separated by spaces."""
    texts = []
    for page in pdf.pages:
        font_maps = {
            str(name): _unicode_map(font)
            for name, font in page.obj.Resources.get("/Font", pikepdf.Dictionary()).items()
        }
        current: dict[int, str] = {}
        parts: list[str] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            if operator == pikepdf.Operator("Tf"):
                current = font_maps[str(operands[0])]
            elif operator == pikepdf.Operator("Tj"):
                parts.append(_decode(bytes(operands[0]), current))
            elif operator == pikepdf.Operator("TJ"):
                parts.append(
                    "".join(
                        _decode(bytes(item), current)
                        for item in operands[0]
                        if isinstance(item, pikepdf.String)
                    )
                )
        texts.append(" ".join(" ".join(parts).split()))
    return texts


def _decode(raw: bytes, mapping: dict[int, str]) -> str:
    # Typst writes composite fonts with two-byte glyph codes (Identity-H).
    return "".join(
        mapping.get(int.from_bytes(raw[i : i + 2], "big"), "\ufffd") for i in range(0, len(raw), 2)
    )
