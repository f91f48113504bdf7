"""services/report_sanitiser.py: a report's identifying parts are removed, what remains is searched,
and hostile PDFs are refused in one line.

The reports are made here with reportlab; Chinese text uses its built-in CID font STSong-Light,
whose text pypdf extracts (checked below, since every page-text assertion depends on it).
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
    encode_pdfdocencoding,
)
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from services import report_sanitiser
from services.report_sanitiser import Hit, Needle, SanitiseRefused, occurs, sanitise_report
from services.uploads import MAX_UPLOAD_BYTES

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

NEEDLES = (
    Needle("member name", "张三"),
    Needle("member name", "Zhang San"),
    Needle("member name", "李四"),
    Needle("member name", "王五"),
    Needle("team name", "漓江智瞳"),
    Needle("organisation", "Lijiang Vision Lab"),
    Needle("team id", "T-0042"),
)
# Every string the identifying report puts outside its pages' drawing.
PLANTED = (
    "张三 (漓江智瞳 leader)",
    "漓江智瞳 technical report",
    "Lijiang Vision Lab",
    "Zhang San, 李四",
    "王五's laptop",
    "T-0042",
    "see 张三",
    "王五's section",
    "Zhang San",
    "T-0042-",
    "李四",
    "漓江智瞳",
    "漓江智瞳 draft",
)
BODY = (
    ["方法：带深度监督的 U-Net。", "Method: a U-Net with deep supervision."],
    ["结果：Dice 0.91。", "We thank the baseline navigation group."],
)
DROPPED_KEYS = ("/Info", "/Metadata", "/PieceInfo", "/LastModified", "/Annots", "/Outlines",
                "/Names", "/Dests", "/AcroForm", "/PageLabels", "/ID", "/TeamNote")  # fmt: skip


# --- making reports ---------------------------------------------------------------------------


def report(pages=BODY, *, named: bool = True, image: bool = False, form: bool = False) -> bytes:
    """A report whose pages draw ``pages`` (lines of text, in STSong-Light), with names in its
    document information, and a small image and a form XObject on the first page, as asked."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    if named:
        pdf.setAuthor("张三 (漓江智瞳 leader)")
        pdf.setTitle("漓江智瞳 technical report")
        pdf.setSubject("Lijiang Vision Lab")
        pdf.setKeywords("Zhang San, 李四")
        pdf.setCreator("王五's laptop")
    for number, lines in enumerate(pages):
        if number == 0 and form:
            pdf.beginForm("figure")
            pdf.setFont("STSong-Light", 10)
            pdf.drawString(300, 300, "图 1")
            pdf.endForm()
            pdf.doForm("figure")
        if number == 0 and image:
            pdf.drawImage(ImageReader(Image.new("RGB", (4, 4), "red")), 400, 400, 20, 20)
        pdf.setFont("STSong-Light", 12)
        for row, line in enumerate(lines):
            pdf.drawString(72, 700 - 20 * row, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _stream(
    writer: PdfWriter, data: bytes, *, deflate: bool = False, **keys: Any
) -> IndirectObject:
    stream = StreamObject()
    stream.set_data(data)
    stream.update({NameObject(f"/{key}"): value for key, value in keys.items()})
    return writer._add_object(stream.flate_encode() if deflate else stream)


def _xmp(writer: PdfWriter, creator: str) -> IndirectObject:
    xml = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return _stream(writer, xml.encode(), Type=NameObject("/Metadata"), Subtype=NameObject("/XML"))


def _xobject(page: Any, subtype: str) -> DictionaryObject:
    xobjects = page["/Resources"]["/XObject"]
    return next(xobjects[name].get_object() for name in xobjects
                if xobjects[name]["/Subtype"] == subtype)  # fmt: skip


def identifying(data: bytes) -> bytes:
    """``data`` with names planted in every part a sanitised copy must leave out."""
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.add_metadata({"/Team": "T-0042"})
    writer.xmp_metadata = _xmp(writer, "张三").get_object().get_data()
    writer.root_object[NameObject("/PieceInfo")] = DictionaryObject(
        {
            NameObject("/Tool"): DictionaryObject(
                {NameObject("/Private"): TextStringObject("漓江智瞳")}
            )
        }
    )
    # on the second page, so that the first page's image and form lose theirs on their own
    second = writer.pages[1]
    second[NameObject("/Metadata")] = _xmp(writer, "李四")
    second[NameObject("/PieceInfo")] = writer.root_object["/PieceInfo"]
    second[NameObject("/LastModified")] = TextStringObject("D:20260701 Lijiang Vision Lab")
    second[NameObject("/TeamNote")] = TextStringObject("漓江智瞳 draft")  # a key no list names
    first = writer.pages[0]
    _xobject(first, "/Image")[NameObject("/Metadata")] = _xmp(writer, "王五")
    figure = _xobject(first, "/Form")
    figure[NameObject("/Metadata")] = _xmp(writer, "Zhang San")
    figure[NameObject("/PieceInfo")] = writer.root_object["/PieceInfo"]
    note = Text(text="see 张三", rect=(50, 550, 200, 650))
    note[NameObject("/T")] = TextStringObject("李四")
    writer.add_annotation(0, note)
    writer.add_outline_item(title="王五's section", page_number=1)
    writer.add_named_destination("Zhang San", 1)
    writer.set_page_label(0, 1, prefix="T-0042-")
    field = DictionaryObject({NameObject("/FT"): NameObject("/Tx"),
                              NameObject("/T"): TextStringObject("member"),
                              NameObject("/V"): TextStringObject("李四")})  # fmt: skip
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([writer._add_object(field)])}
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def original() -> bytes:
    return identifying(report(image=True, form=True))


@pytest.fixture(scope="module")
def sanitised(original):
    return sanitise_report(original, NEEDLES)


def texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- looking into a PDF, independently of the sanitiser ----------------------------------------


def encodings(text: str) -> Iterator[bytes]:
    yield text.encode("utf-8")
    yield text.encode("utf-16-be")
    for encode in (encode_pdfdocencoding, lambda form: form.encode("latin-1")):
        try:
            yield encode(text)
        except UnicodeEncodeError:
            continue


def everything(data: bytes) -> Iterator[tuple[str, Any]]:
    """Every key and value of every object of ``data`` (streams decoded), with the object's
    number, by pypdf's parser."""
    reader = PdfReader(io.BytesIO(data))
    stack: list[tuple[str, Any]] = [("trailer", reader.trailer)]
    stack += [(f"object {number}", IndirectObject(number, generation, reader))
              for generation, numbers in reader.xref.items() for number in numbers]  # fmt: skip
    seen = set()
    while stack:
        where, value = stack.pop()
        if isinstance(value, IndirectObject):
            if (value.idnum, value.generation) in seen:
                continue
            seen.add((value.idnum, value.generation))
            value = value.get_object()
        yield where, value
        if isinstance(value, StreamObject):
            yield where, value.get_data()
        if isinstance(value, DictionaryObject):
            stack += [(where, key) for key in dict.keys(value)]
            stack += [(where, item) for item in dict.values(value)]
        elif isinstance(value, ArrayObject):
            stack += [(where, item) for item in list.__iter__(value)]


def squeezed(text: str) -> str:
    return "".join(text.split()).casefold()


# --- what is removed ------------------------------------------------------------------------


def test_the_fixture_plants_every_name_where_the_sanitiser_must_look(original):
    reader = PdfReader(io.BytesIO(original))
    root, first, second = reader.trailer["/Root"], reader.pages[0], reader.pages[1]
    assert reader.metadata.author == "张三 (漓江智瞳 leader)"
    assert reader.metadata["/Team"] == "T-0042"
    for key in ("/Metadata", "/PieceInfo", "/Outlines", "/Names", "/AcroForm", "/PageLabels"):
        assert key in root, key
    for key in ("/Metadata", "/PieceInfo", "/LastModified", "/TeamNote"):
        assert key in second and key not in first, key
    assert "/Annots" in first
    assert "/Metadata" in _xobject(first, "/Image") and "/Metadata" in _xobject(first, "/Form")
    assert first["/Annots"][0].get_object()["/T"] == "李四"
    found = "".join(str(value) for _, value in everything(original) if isinstance(value, str))
    assert all(planted in found or planted in original.decode("latin-1") for planted in PLANTED)


def test_no_planted_string_is_left_in_any_encoding_or_object(sanitised):
    data = sanitised.data
    for planted in {*PLANTED, *(needle.text for needle in NEEDLES)}:
        for pattern in encodings(planted):
            assert pattern not in data, (planted, pattern)
    for where, value in everything(data):
        if isinstance(value, bytes):
            found = [n.text for n in NEEDLES if any(p in value for p in encodings(n.text))]
        else:
            text = squeezed(str(value)) if isinstance(value, str) else ""
            found = [n.text for n in NEEDLES if squeezed(n.text) in text]
        assert not found, (where, found, value)


def test_the_copy_keeps_only_the_pages_drawing(sanitised):
    reader = PdfReader(io.BytesIO(sanitised.data))
    assert "/Info" not in reader.trailer and "/ID" not in reader.trailer
    assert set(reader.trailer["/Root"].keys()) == {"/Type", "/Pages"}
    keys = {str(key) for _, value in everything(sanitised.data)
            if isinstance(value, DictionaryObject) for key in value}  # fmt: skip
    assert not keys & set(DROPPED_KEYS), keys & set(DROPPED_KEYS)
    assert b"pypdf" not in sanitised.data and b"ReportLab" not in sanitised.data
    # the drawing is all there: text, image and form
    assert {"/Image", "/Form"} <= {str(value) for _, value in everything(sanitised.data)}


def test_a_page_key_is_dropped_from_the_page_only():
    """An odd page key named like a resource category goes; the page's images stay."""
    writer = PdfWriter(clone_from=io.BytesIO(report(named=False, image=True, form=True)))
    writer.pages[0][NameObject("/XObject")] = TextStringObject("漓江智瞳")
    buffer = io.BytesIO()
    writer.write(buffer)
    result = sanitise_report(buffer.getvalue(), NEEDLES)
    assert result.clean and Hit("team name", "漓江智瞳", "page dictionary") in result.removed
    page = PdfReader(io.BytesIO(result.data)).pages[0]
    assert "/XObject" not in page
    assert len(page["/Resources"]["/XObject"]) == 2


def test_page_count_and_page_text_are_unchanged(original, sanitised):
    before, after = texts(original), texts(sanitised.data)
    assert after == before and len(after) == len(BODY)
    # pypdf really reads the Chinese text, so the comparison above means something
    assert "方法：带深度监督的 U-Net。" in after[0] and "图 1" in after[0]
    assert "结果：Dice 0.91。" in after[1]


def test_names_found_in_removed_parts_are_listed_as_removed_and_do_not_hold(sanitised):
    assert sanitised.clean and sanitised.hits == ()
    removed = {(hit.where, hit.text) for hit in sanitised.removed}
    expected = {
        ("metadata", "张三"), ("metadata", "漓江智瞳"), ("metadata", "Lijiang Vision Lab"),
        ("metadata", "Zhang San"), ("metadata", "李四"), ("metadata", "王五"),
        ("metadata", "T-0042"), ("XMP metadata", "张三"), ("XMP metadata", "李四"),
        ("XMP metadata", "王五"), ("XMP metadata", "Zhang San"),
        ("private application data", "漓江智瞳"),
        ("private application data", "Lijiang Vision Lab"),
        ("annotation", "李四"), ("annotation", "张三"), ("outline", "王五"),
        ("names", "Zhang San"), ("page labels", "T-0042"), ("form", "李四"),
        ("page dictionary", "漓江智瞳"),
    }  # fmt: skip
    assert expected <= removed, expected - removed
    kinds = {hit.text: hit.kind for hit in sanitised.removed}
    assert kinds["漓江智瞳"] == "team name" and kinds["T-0042"] == "team id"


def test_sanitising_is_deterministic(original, sanitised):
    assert sanitise_report(original, NEEDLES).data == sanitised.data


# --- what remains -----------------------------------------------------------------------------


def test_names_in_the_page_text_are_hits_with_their_page_in_any_spacing_or_width():
    pages = (
        ["Introduction."],
        ["组长：张 三 负责训练。"],
        ["负责人：ＺＨＡＮＧ　San，lijiang-vision lab。", "Team t 0042."],
    )
    result = sanitise_report(report(pages), NEEDLES)
    assert not result.clean
    found = {(hit.text, hit.where) for hit in result.hits}
    assert {("张三", "page 2"), ("Zhang San", "page 3"), ("Lijiang Vision Lab", "page 3"),
            ("T-0042", "page 3")} <= found  # fmt: skip
    assert not {where for _, where in found} & {"page 1"}
    assert Hit("member name", "张三", "page 2") in result.hits


def test_a_clean_report_gives_no_hits_even_near_the_names():
    pages = (["We thank the baseline navigation group.", "Cases T-00421 to T-00430."],
             ["张 三 角 形", "Zhang Sanford Hospital."])  # fmt: skip
    needles = [Needle("member name", "Li Na"), Needle("team id", "T-0042"),
               Needle("member name", "Zhang San"), Needle("member name", "张三角")]  # fmt: skip
    result = sanitise_report(report(pages, named=False), needles)
    # "张三角" is there, written with spaces: the control that the page is read at all
    assert {hit.text for hit in result.hits} == {"张三角"}
    assert Hit("member name", "张三角", "page 2") in result.hits
    clean = sanitise_report(report(pages, named=False), needles[:3])
    assert clean.clean and clean.hits == () and clean.removed == ()


def test_needles_under_two_characters_are_ignored():
    pages = (["张 and a dash -- here; 张三 too."],)
    needles = [Needle("member name", "张"), Needle("member name", "a"),
               Needle("team name", "- -"), Needle("member name", "张三")]  # fmt: skip
    result = sanitise_report(report(pages, named=False), needles)
    assert {hit.text for hit in result.hits} == {"张三"}


def test_names_kept_in_the_drawing_outside_the_text_are_hits():
    """A name kept in the page resources (an optional-content group's name) is no page text,
    but the copy's objects and raw bytes are searched too."""
    writer = PdfWriter(clone_from=io.BytesIO(report()))
    group = DictionaryObject({NameObject("/Type"): NameObject("/OCG"),
                              NameObject("/Name"): TextStringObject("Lijiang Vision Lab"),
                              NameObject("/Owner"): TextStringObject("漓江 智瞳")})  # fmt: skip
    properties = DictionaryObject({NameObject("/MC0"): writer._add_object(group)})
    writer.pages[0]["/Resources"][NameObject("/Properties")] = properties
    buffer = io.BytesIO()
    writer.write(buffer)
    result = sanitise_report(buffer.getvalue(), NEEDLES)
    assert not result.clean
    where = {(hit.text, hit.where.split(" object")[0]) for hit in result.hits}
    assert {("Lijiang Vision Lab", "sanitised"), ("Lijiang Vision Lab", "sanitised bytes"),
            ("漓江智瞳", "sanitised")} <= where  # fmt: skip
    assert not any(hit.where.startswith("page") for hit in result.hits)


def test_a_name_the_text_extraction_skips_is_found_in_the_content_stream():
    """Alternate text of marked content is in the page's (compressed) content stream, where a
    reader's accessibility tools show it, but not in pypdf's extracted text."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})  # fmt: skip
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    contents = StreamObject()
    alternate = b"/Span <</Alt (Zhang San) /ActualText (\xfe\xff" + "张三".encode("utf-16-be")
    contents.set_data(alternate + b")>> BDC BT /F1 12 Tf 10 10 Td (Figure) Tj ET EMC")
    page[NameObject("/Contents")] = writer._add_object(contents.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    assert b"Zhang San" not in buffer.getvalue()
    assert texts(buffer.getvalue()) == ["Figure"]
    result = sanitise_report(buffer.getvalue(), NEEDLES)
    assert {(hit.text, hit.where.split(" object")[0]) for hit in result.hits} == {
        ("Zhang San", "sanitised"),
        ("张三", "sanitised"),
    }


def test_pixels_and_glyph_programs_are_not_searched():
    """Bytes in an image or a font program are not text: that they spell a name by chance
    must not hold a report (the name drawn into an image is not found either)."""
    writer = PdfWriter(clone_from=io.BytesIO(report(named=False)))
    image = _stream(writer, b"Zhang San", deflate=True, Type=NameObject("/XObject"),
                    Subtype=NameObject("/Image"), Width=NumberObject(9),
                    Height=NumberObject(1), BitsPerComponent=NumberObject(8),
                    ColorSpace=NameObject("/DeviceGray"))  # fmt: skip
    glyphs = "Zhang San 张三".encode("utf-16-be")
    glyphs = _stream(writer, glyphs, deflate=True, Length1=NumberObject(len(glyphs)))
    resources = writer.pages[0]["/Resources"]
    resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Im9"): image})
    resources[NameObject("/Glyphs")] = glyphs
    buffer = io.BytesIO()
    writer.write(buffer)
    assert sanitise_report(buffer.getvalue(), NEEDLES).clean


# --- the comparison ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("needle", "text", "found"),
    [
        ("Zhang San", "ＺＨＡＮＧ　San", True),
        ("Zhang San", "zhang-san", True),
        ("Zhang San", "ZhangSan's model", True),
        ("Zhang San", "Zhang Sanford", False),
        ("张三", "张 三", True),
        ("张三", "组长张三负责", True),
        ("张 三", "张\u200b三", True),
        ("Li Na", "baseline navigation", False),
        ("Li Na", "(Li Na)", True),
        ("T-0042", "T0042", True),
        ("T-0042", "T-00421", False),
        ("Lijiang Vision Lab", "LIJIANG\nVISION\tLAB", True),
    ],
)
def test_the_comparison_folds_width_case_and_separators_but_keeps_latin_word_edges(
    needle, text, found
):
    assert occurs(needle, text) is found


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
LETTER = st.sampled_from(string.ascii_letters)
SEPARATOR = st.sampled_from([" ", "\u3000", "-", "·", "\n", "\u200b", "_", "."])


@given(
    name=st.lists(st.one_of(HAN, LETTER), min_size=2, max_size=6),
    gaps=st.lists(st.lists(SEPARATOR, max_size=2), min_size=6, max_size=6),
    wide=st.booleans(),
    upper=st.booleans(),
    before=st.sampled_from(["", " ", "组长", "by "]),
)
def test_a_name_is_found_whatever_separators_width_and_case_it_is_written_in(
    name, gaps, wide, upper, before
):
    written = "".join(char + "".join(gap) for char, gap in zip(name, gaps, strict=False))
    if upper:
        written = written.upper()
    if wide:  # the full-width forms of ASCII letters
        written = "".join(chr(ord(c) + 0xFEE0) if c in string.ascii_letters else c
                          for c in written)  # fmt: skip
    assert occurs("".join(name), before + written + "。")


# --- hostile input ----------------------------------------------------------------------------


def _blank(pages: int = 1, password: str | None = None, script: bool = False) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(100, 100)
    if password:
        writer.encrypt(password)
    if script:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }  # fmt: skip
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _odd_filter(where: str) -> bytes:
    """A report with a stream in a filter pypdf does not know: in the page's resources (kept),
    or as the document's XMP metadata (removed)."""
    writer = PdfWriter(clone_from=io.BytesIO(report(named=False)))
    odd = _stream(writer, b"Zhang San", Filter=NameObject("/Bogus"))
    if where == "kept":
        writer.pages[0]["/Resources"][NameObject("/Odd")] = odd
    else:
        writer.root_object[NameObject("/Metadata")] = odd
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a PDF"),
        (b"GIF89a" + b"\0" * 100, "not a PDF"),
        (b"%PDF-1.7\n%%EOF\n", "cannot be read"),
        (_blank()[:200], "cannot be read"),
        (_blank(password="secret"), "encrypted"),
        (_blank(pages=0), "no pages"),
        (_blank(script=True), "JavaScript"),
        (b"%PDF-1.7\n" + b" " * MAX_UPLOAD_BYTES, "larger than the limit"),
        (_odd_filter("kept"), "cannot be decoded to be searched: Unsupported filter /Bogus"),
    ],
    ids=[
        "empty",
        "gif",
        "no-xref",
        "cut",
        "encrypted",
        "no-pages",
        "script",
        "huge",
        "odd-filter",
    ],  # fmt: skip
)
def test_hostile_pdfs_are_refused_in_one_line(data, reason):
    with pytest.raises(SanitiseRefused) as refused:
        sanitise_report(data, NEEDLES)
    message = str(refused.value)
    assert reason in message and "\n" not in message and message.strip() == message


def test_a_removed_stream_that_cannot_be_decoded_is_not_searched_nor_refused():
    result = sanitise_report(_odd_filter("removed"), NEEDLES)
    assert result.clean and result.removed == ()
    assert "/Metadata" not in PdfReader(io.BytesIO(result.data)).trailer["/Root"]


def test_more_pages_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(report_sanitiser, "MAX_REPORT_PAGES", 3)
    assert sanitise_report(_blank(pages=3), NEEDLES).clean
    with pytest.raises(SanitiseRefused, match="4 pages, more than the 3"):
        sanitise_report(_blank(pages=4), NEEDLES)


def test_a_copy_whose_text_differs_is_refused(monkeypatch):
    """The guard behind "the same extracted text": a copy that lost a page's drawing."""
    monkeypatch.setattr(report_sanitiser, "_stripped", lambda reader: _blank(len(reader.pages)))
    with pytest.raises(SanitiseRefused, match="changed the text of page 1"):
        sanitise_report(report(), NEEDLES)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_damaged_reports_are_sanitised_or_refused_never_crash(original, data):
    """Bytes changed in place (the cross-reference offsets stay right, so most damage reaches
    the objects and streams), sometimes cut short."""
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8), label="changes")):
        at = data.draw(st.integers(0, len(damaged) - 1), label="at")
        damaged[at] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="cut"):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)), label="length")]
    try:
        result = sanitise_report(bytes(damaged), NEEDLES)
    except SanitiseRefused as refused:
        assert str(refused) and "\n" not in str(refused)
    else:
        assert len(PdfReader(io.BytesIO(result.data)).pages) == len(BODY)
