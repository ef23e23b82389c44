"""Writers of the PDFs the ingest tests and the benchmark need and nobody should ship: thousands of
pages written cheaply, password-protected and empty-password files, truncated files, a broken
xref, decompression bombs, deeply nested objects, a scanned page with no text layer, pages whose
glyphs decode to garbage and pages whose Thai is mangled. Most are written byte by byte with a
tiny PDF serializer so the tests know exactly what is inside; the rest use fpdf2 and pypdf.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

from app.samples import thai_font_path

_HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def serialize(objects: list[bytes], *, root: int = 1) -> bytes:
    """A complete PDF from numbered object bodies (object i+1 is ``objects[i]``) with a valid
    cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """A stream object body holding ``data`` as is, with ``extra`` dictionary entries."""
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_content(lines: list[str], *, font_size: float = 11) -> bytes:
    """A content stream that shows ``lines`` in Helvetica, top to bottom, from the top margin."""
    ops = [b"BT /F1 %.2f Tf %.2f TL 36 770 Td" % (font_size, font_size * 1.2)]
    ops += [b"(%s) '" % _escape(line) for line in lines]
    ops.append(b"ET")
    return b"\n".join(ops)


def page_lines(number: int, lines_per_page: int = 40) -> list[str]:
    """The deterministic text of page ``number`` in a generated many-page document."""
    return [
        f"Page {number} line {line}: the lessee shall pay rent of USD {number * 100 + line:,} "
        f"on the first day of each month."
        for line in range(1, lines_per_page + 1)
    ]


def text_pdf_bytes(pages: int, *, lines_per_page: int = 40, compress: bool = True) -> bytes:
    """A text PDF of ``pages`` pages (thousands are fine: about 2 KB a page, built in a loop).
    The font shrinks as lines are added so every line stays on the page."""
    font_size = min(11.0, 720 / (lines_per_page * 1.2))
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        _HELVETICA,
    ]
    for number in range(1, pages + 1):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * (number - 1))
        )
        content = text_content(page_lines(number, lines_per_page), font_size=font_size)
        if compress:
            objects.append(stream(zlib.compress(content), b"/Filter /FlateDecode "))
        else:
            objects.append(stream(content))
    return serialize(objects)


def write_many_pages(path: Path, pages: int, *, lines_per_page: int = 40) -> Path:
    """Write ``text_pdf_bytes(pages)`` to ``path``."""
    path.write_bytes(text_pdf_bytes(pages, lines_per_page=lines_per_page))
    return path


def write_encrypted(path: Path, *, user_password: str, source: Path | None = None) -> Path:
    """A copy of ``source`` (default: a 2-page text PDF) encrypted with AES-256.

    ``user_password=""`` gives the common "encrypted but opens without a password" file.
    """
    if source is None:
        source = write_many_pages(path.with_suffix(".plain.pdf"), 2)
    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_truncated(path: Path, *, keep_fraction: float = 1.0, drop_bytes: int = 0) -> Path:
    """A 3-page text PDF cut short: ``drop_bytes`` off the end (a download that lost its last
    bytes; ``%%EOF`` and ``startxref`` gone is recoverable) or cut at ``keep_fraction``."""
    data = text_pdf_bytes(3, lines_per_page=20, compress=False)
    keep = min(int(len(data) * keep_fraction), len(data) - drop_bytes)
    path.write_bytes(data[:keep])
    return path


def write_corrupt_xref(path: Path, *, pages: int = 3) -> Path:
    """A text PDF whose cross-reference entries all point 7 bytes off and whose ``startxref``
    points into the middle of an object."""
    data = text_pdf_bytes(pages, lines_per_page=20, compress=False)
    xref_at = data.rindex(b"\nxref\n") + 1
    trailer_at = data.index(b"trailer", xref_at)
    lines = data[xref_at:trailer_at].split(b"\n")
    shifted = [
        b"%010d 00000 n " % (int(line[:10]) + 7) if line.endswith(b" n ") else line
        for line in lines
    ]
    tail = data[trailer_at:].replace(b"startxref\n%d" % xref_at, b"startxref\n%d" % (xref_at // 2))
    path.write_bytes(data[:xref_at] + b"\n".join(shifted) + tail)
    return path


def write_not_a_pdf(path: Path) -> Path:
    """A file with a PDF header and nothing readable after it."""
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    return path


def write_decompression_bomb(path: Path, *, inflated_bytes: int = 2 << 30) -> Path:
    """A one-page PDF whose content stream is ``inflated_bytes`` of spaces behind two FlateDecode
    filters: a few kilobytes on disk, gigabytes once decoded (PDFium decodes a stream whole).

    Built in a second, not by compressing gigabytes: after a full flush a deflate stream restarts
    byte-aligned with an empty history, so one compressed megabyte of spaces can be repeated.
    """
    prefix = b"BT /F1 12 Tf 72 720 Td (Harmless looking page) Tj ET\n"
    block = b" " * (1 << 20)
    blocks = max(1, inflated_bytes >> 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)
    checksum = zlib.adler32(prefix)
    for _ in range(blocks):
        checksum = zlib.adler32(block, checksum)
    once = b"\x78\xda" + head + body * blocks + end + struct.pack(">I", checksum)
    twice = zlib.compress(once, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream(twice, b"/Filter [/FlateDecode /FlateDecode] "),
        _HELVETICA,
    ]
    path.write_bytes(serialize(objects))
    return path


def write_nested_arrays(path: Path, *, depth: int = 200_000) -> Path:
    """A one-page PDF carrying an array nested ``depth`` deep in its page dictionary."""
    nested = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> /Junk %s >>" % nested,
        stream(text_content(["Nested arrays inside"])),
        _HELVETICA,
    ]
    path.write_bytes(serialize(objects))
    return path


def write_nested_page_tree(path: Path, *, depth: int = 5_000) -> Path:
    """A one-page PDF whose page sits under ``depth`` levels of /Pages nodes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (3 + level))
    page = 2 + depth
    objects.append(
        b"<< /Type /Page /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page + 1, page + 2)
    )
    objects.append(stream(text_content(["Deep in the page tree"])))
    objects.append(_HELVETICA)
    path.write_bytes(serialize(objects))
    return path


def _scan_image() -> io.BytesIO:
    image = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(image)
    for row in range(60, 1000, 28):
        draw.rectangle((70, row, 70 + (row * 37) % 600 + 120, row + 12), fill=30)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer


def write_scanned_page(path: Path) -> Path:
    """A page that is one image of printed-looking lines and has no text layer at all."""
    return write_pages_with_scans(path, [None])


def write_pages_with_scans(path: Path, pages: list[str | None]) -> Path:
    """Pages of text (Helvetica), where a None page is a scan: one image, no text layer."""
    pdf = FPDF(format="letter")
    for text in pages:
        pdf.add_page()
        if text is None:
            pdf.image(_scan_image(), x=0, y=0, w=pdf.w, h=pdf.h)
        else:
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 6, text, align="L")
    pdf.output(str(path))
    return path


def write_font_text(path: Path, pages: list[str]) -> Path:
    """Pages of text in the Garuda TTF; the text layer maps each glyph to exactly the code points
    given, so odd code points come back out of the extractor as they went in."""
    pdf = FPDF()
    pdf.add_font("Garuda", fname=str(thai_font_path()))
    for text in pages:
        pdf.add_page()
        pdf.set_font("Garuda", size=13)
        pdf.multi_cell(0, 8, text, align="L")
    pdf.output(str(path))
    return path


# Private-use code points the TLWG fonts use for repositioned Thai marks: an extractor that
# reports these instead of the real marks produces unreadable text
GARBLED_RUN = "".join(chr(c) for c in range(0xF700, 0xF71A))


def write_garbled_page(path: Path) -> Path:
    """One readable page, then a page whose text layer decodes mostly to private-use glyphs."""
    readable = "Schedule A. The monthly fee is USD 48,500.00 payable within thirty days."
    garbled = "Rent " + " ".join(GARBLED_RUN for _ in range(4)) + " 12"
    return write_font_text(path, [readable, garbled])


def write_thai_mangled_page(path: Path) -> Path:
    """A Thai page as a bad extractor sees it: SARA AM split into NIKHAHIT + SARA AA in
    ``น้ำ`` and ``จำนวน``, and tone marks floating with no consonant under them."""
    split = "ค่าน\u0e49\u0e4d\u0e32ประปา ชำระเป็นจ\u0e4d\u0e32นวน 500 บาท"
    orphans = "ผู้เช่า \u0e48 \u0e49 ตกลง \u0e34 ชำระ"
    return write_font_text(path, [split + "\n" + orphans])


TYPE3_TEXT = "the tenant shall pay rent monthly"


def write_type3_page(path: Path, text: str = TYPE3_TEXT) -> Path:
    """A page set in a Type3 font (as old TeX and plotting tools write them) whose letters are
    codes 1-26 named a-z by its encoding and which has no ToUnicode map: PDFium reports the raw
    codes (control characters), pypdf maps the glyph names back to letters."""
    names = [chr(code) for code in range(ord("a"), ord("z") + 1)]
    char_procs = b" ".join(b"/%s %d 0 R" % (name.encode(), 7 + i) for i, name in enumerate(names))
    differences = b"[1 " + b" ".join(b"/" + name.encode() for name in names) + b"]"
    codes = bytes(ord(ch) - 96 if ch.isalpha() else 32 for ch in text.lower())
    escaped = codes.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    widths = b" ".join(b"600" for _ in range(32))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /T3 5 0 R >> >> >>",
        stream(b"BT /T3 12 Tf 72 720 Td (" + escaped + b") Tj ET"),
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] "
        b"/FontMatrix [0.001 0 0 0.001 0 0] /CharProcs 6 0 R "
        b"/Encoding << /Type /Encoding /Differences " + differences + b" >> "
        b"/FirstChar 1 /LastChar 32 /Widths [" + widths + b"] >>",
        b"<< " + char_procs + b" >>",
    ]
    objects += [stream(b"600 0 0 0 500 700 d1 0 0 500 700 re f") for _ in names]
    path.write_bytes(serialize(objects))
    return path


def distinct_copies(pdf: bytes, n: int, tag: str = "") -> list[bytes]:
    """``n`` PDFs with the same pages and different bytes (a trailing comment differs), so each
    is a new document to the content-hash dedupe."""
    return [pdf + f"\n% {tag} copy {i}\n".encode() for i in range(n)]


def write_column_table(path: Path, heading: list[str], rows: list[tuple[str, list[str]]]) -> Path:
    """A one-page statement typeset column by column, as many filings are: the content stream
    shows every label first, then each column of figures top to bottom, so the stream order
    never puts a row's label next to its figures; only the positions do."""
    def show(x: float, y: float, text: str) -> bytes:
        return b"BT /F1 10 Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj ET" % (x, y, _escape(text))

    top = 760.0
    ops = [show(36, top - 14 * n, line) for n, line in enumerate(heading)]
    first = top - 14 * len(heading)
    ops += [show(36, first - 14 * n, label) for n, (label, _cells) in enumerate(rows)]
    for column in range(max(len(cells) for _label, cells in rows)):
        ops += [show(330 + 90 * column, first - 14 * n, cells[column])
                for n, (_label, cells) in enumerate(rows) if column < len(cells)]
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>", _HELVETICA,
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
               b"/Resources << /Font << /F1 3 0 R >> >> >>",
               stream(b"\n".join(ops))]
    path.write_bytes(serialize(objects))
    return path


def write_scan_of(source: Path, path: Path, *, dpi: int = 200) -> Path:
    """An image-only copy of ``source``: each page rendered by PDFium (greyscale, as a scanner
    would give it), the images bound into a PDF with no text layer."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        images = [document[i].render(scale=dpi / 72, grayscale=True).to_pil()
                  for i in range(len(document))]
    finally:
        document.close()
    return write_image_pages(path, images, dpi=dpi)


def typeset_page_image(lines: list[str], *, dpi: int = 200, size_pt: float = 12.0,
                       font: Path | None = None) -> Image.Image:
    """An A4 page image of ``lines`` set with a shaping engine (Pillow's raqm), as a printed and
    scanned Thai page looks: fpdf2 writes Thai without shaping, so its tone marks float where
    no printer would put them, and a render of its pages is not what a scanner sees."""
    from PIL import ImageFont

    width, height = round(8.27 * dpi), round(11.69 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(str(font or thai_font_path()), size=round(size_pt * dpi / 72),
                              layout_engine=ImageFont.Layout.RAQM)
    y = round(0.8 * dpi)
    for line in lines:
        draw.text((round(0.8 * dpi), y), line, font=face, fill=0)
        y += round(size_pt * dpi / 72 * 1.6)
    return image


def write_typeset_scan(path: Path, pages: list[list[str]], *, dpi: int = 200,
                       size_pt: float = 12.0) -> Path:
    """An image-only PDF of ``pages`` (each a list of lines) typeset by ``typeset_page_image``."""
    images = [typeset_page_image(lines, dpi=dpi, size_pt=size_pt) for lines in pages]
    return write_image_pages(path, images, dpi=dpi)


def write_image_pages(path: Path, images: list[Image.Image], *, dpi: int = 200) -> Path:
    """An image-only PDF of the given page images."""
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def write_oversized_image_page(path: Path, *, width: int = 100_000, height: int = 100_000) -> Path:
    """A one-page PDF whose only image declares ``width`` x ``height`` pixels (its data is a few
    bytes): decoding it would need width x height bytes."""
    content = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    image = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray " \
            b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height)
    path.write_bytes(serialize([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /Im0 5 0 R >> >> >>",
        stream(content),
        stream(zlib.compress(b"\xff" * 64), image),
    ]))
    return path


def write_scanned_register(path: Path, pages: int, *, dpi: int = 150) -> Path:
    """A long image-only PDF: page N is a scan of one printed line that names N, so every page
    reads differently. Each page's image is compressed on its own; none is kept in memory."""
    from PIL import ImageFont

    pdf = FPDF(format="A4")
    face = ImageFont.truetype(str(thai_font_path()), size=round(12 * dpi / 72))
    for number in range(1, pages + 1):
        image = Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 255)
        ImageDraw.Draw(image).text((round(0.8 * dpi), round(0.8 * dpi)),
                                   f"Register page {number}: received THB {number * 125:,}",
                                   font=face, fill=0)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.output(str(path))
    return path


def write_unmapped_text_page(path: Path, lines: list[str]) -> Path:
    """A page printed in plain Helvetica whose ToUnicode map sends every character to a
    private-use code point: it reads fine on paper, and its text layer is garbage to both
    extractors (as some PDF producers write it)."""
    to_unicode = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
                  b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
                  b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def "
                  b"1 begincodespacerange <00> <FF> endcodespacerange "
                  b"1 beginbfrange <20> <7E> <E020> endbfrange "
                  b"endcmap CMapName currentdict /CMap defineresource pop end end")
    path.write_bytes(serialize([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream(text_content(lines, font_size=12)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
        b"/ToUnicode 6 0 R >>",
        stream(to_unicode),
    ]))
    return path
