"""Anonymising a team's technical report before experts read it in an anonymised review.

A report once kept "张三 (漓江智瞳 … leader)" as its PDF author. So the sanitised copy keeps
only what draws the pages, and is then searched for every name the organiser gives
(``Needle``): what is left is ``Sanitised.hits`` (the report is not clean: the organiser asks
the team for a clean one), what was found only in the parts taken out is ``removed`` (for the
organiser's information; it no longer reaches anyone).

What is kept: each page's drawing (content streams, resources, the boxes, rotation, the
transparency group) copied into a new document by pypdf, with nothing else from the original
catalog, trailer or pages. So gone are: the document information dictionary (author, title,
subject, keywords, creator, producer, dates, custom keys; and pypdf's own /Producer is not
added), every XMP /Metadata stream (catalog, pages, images, form XObjects, wherever it hangs),
/PieceInfo and /LastModified, annotations (``/Annots`` whole: comments carry their author in
/T, links carry URLs and named destinations, widgets belong to the form that goes too),
outlines, the names tree and /Dests, the form (/AcroForm), page labels, article threads,
thumbnails, the structure tree, and the document /ID (pypdf writes none unless encrypting,
so the copy cannot be matched to the team's file by it, and the same report always gives
the same bytes).

What is searched, after NFKC, case folding and with white space, punctuation and invisible
characters ignored (text extraction puts spaces inside Chinese names): the extracted text of
every page of the copy, every string, name and decodable non-image stream of the copy, and
the copy's raw bytes; and for ``removed``, the same in the original's stripped parts. A match
between two Latin letters or digits must start and end at a word edge ("Li Na" is not inside
"baseline navigation"); next to a Chinese character it may not (Chinese is written without
spaces). Text drawn inside images is not searched: nothing here reads pixels.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
    TextStringObject,
    encode_pdfdocencoding,
)

from domain.errors import DomainError
from services.uploads import PDF_ERRORS, checked_reader

# Text extraction is the slow part (seconds for a heavy page); past this many pages the
# report is refused rather than read for minutes. A contest report is tens of pages.
MAX_REPORT_PAGES = 300
# A needle shorter than this, once folded, would match by chance everywhere.
MIN_NEEDLE_CHARS = 2
# What folding drops: everything but letters and digits (``_`` counts as a word character).
_SEPARATORS = re.compile(r"[\W_]+")
# Raw byte patterns shorter than this occur by chance in compressed data; the parsed strings
# and page text still find such needles.
MIN_RAW_BYTES = 4

# What reading a malformed page or stream raises, beyond what opening it does: a filter pypdf
# does not know, or one that needs a program this machine lacks, or structure nested too deep.
_FAILURES = (*PDF_ERRORS, NotImplementedError, DependencyError, RecursionError)
# The page keys that draw the page; every other key of a page is left behind.
_PAGE_KEPT = frozenset(
    {"/Type", "/Resources", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox",
     "/Contents", "/Rotate", "/Group", "/UserUnit"}
)  # fmt: skip
# Left behind wherever they hang, pages or the images and forms the pages draw.
_DROPPED_EVERYWHERE = ("/Metadata", "/PieceInfo", "/LastModified", "/Annots")
# What a needle found under each key of the original is called in ``removed``.
_PARTS = {
    "/Info": "metadata",
    "/Metadata": "XMP metadata",
    "/PieceInfo": "private application data",
    "/LastModified": "private application data",
    "/Annots": "annotation",
    "/Outlines": "outline",
    "/Names": "names",
    "/Dests": "names",
    "/AcroForm": "form",
    "/PageLabels": "page labels",
    "/Threads": "article threads",
    "/B": "article threads",
    "/Thumb": "thumbnail",
    "/StructTreeRoot": "structure tree",
    "/Root": "document catalog",
    "/Pages": "page tree",
    "/Parent": "page tree",
}
# Font programs in /FontFile3 (the others have /Length1).
_BINARY_SUBTYPES = frozenset({"/Image", "/Type1C", "/CIDFontType0C", "/OpenType"})


@dataclass(frozen=True)
class Needle:
    """Something that must never reach an expert: a team name, a member's name, an
    organisation, a team id."""

    kind: str
    text: str


@dataclass(frozen=True)
class Hit:
    """Where a needle was found; ``text`` is shown to the organiser only."""

    kind: str
    text: str
    where: str


@dataclass(frozen=True)
class Sanitised:
    data: bytes
    hits: tuple[Hit, ...]
    removed: tuple[Hit, ...] = ()

    @property
    def clean(self) -> bool:
        """True when no needle is left in ``data``: it may be given to experts."""
        return not self.hits


class SanitiseRefused(Exception):
    """A PDF that cannot be sanitised; the message names why, on one line."""


def sanitise_report(pdf: bytes, needles: Sequence[Needle]) -> Sanitised:
    """The report with everything but its pages' drawing left out, and where the needles
    still are (``hits``) or were (``removed``). Refuses what an upload would refuse, a report
    over ``MAX_REPORT_PAGES``, and a copy whose page text differs from the original's."""
    original = _opened(pdf)
    try:
        data = _stripped(original)
        copy = PdfReader(io.BytesIO(data), strict=True)
        texts = _same_text(original, copy)
        searched = [_Searched.of(needle) for needle in needles]
        searched = [needle for needle in searched if len(needle.folded.chars) >= MIN_NEEDLE_CHARS]
        hits = _found(searched, _remaining(copy, texts, data))
        removed = _found(searched, _stripped_parts(original))
    except _FAILURES as error:
        raise SanitiseRefused(f"the report cannot be sanitised: {_one_line(error)}") from None
    return Sanitised(data=data, hits=hits, removed=removed)


def _opened(pdf: bytes) -> PdfReader:
    """The original, checked as an upload is (size, scripts, attachments, pages), with the
    page count bounded."""
    try:
        reader = checked_reader(pdf, name="report")
    except DomainError as error:
        raise SanitiseRefused(_one_line(error)) from None
    if len(reader.pages) > MAX_REPORT_PAGES:
        raise SanitiseRefused(
            f"the report has {len(reader.pages)} pages, more than the {MAX_REPORT_PAGES} "
            "the sanitiser reads"
        )
    return reader


def _one_line(error: Exception) -> str:
    """The error's message on one printable line (pypdf quotes the damaged bytes it met)."""
    printable = "".join(char if char.isprintable() else " " for char in str(error))
    return " ".join(printable.split()) or type(error).__name__


# --- the copy --------------------------------------------------------------------------------


def _stripped(original: PdfReader) -> bytes:
    """A new document holding each page's drawing and nothing else."""
    writer = PdfWriter()
    writer.metadata = None  # no /Info at all, so not even pypdf's /Producer
    for page in original.pages:
        # pypdf's clone drops a listed key at every depth; ``1, key`` drops it from the page
        # only, so that a page key that happens to share a name with, say, a resource
        # category (/XObject) does not take the page's images with it.
        page_only = [item for key in sorted(page) if key not in _PAGE_KEPT for item in (1, key)]
        writer.add_page(page, excluded_keys=[*_DROPPED_EVERYWHERE, *page_only])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _same_text(original: PdfReader, copy: PdfReader) -> list[str]:
    """The copy's page texts, once checked against the original's: leaving things out must
    never change what an expert reads."""
    if len(copy.pages) != len(original.pages):
        raise SanitiseRefused(f"the sanitised copy has {len(copy.pages)} pages, not "
                              f"{len(original.pages)}")  # fmt: skip
    texts = [page.extract_text() for page in copy.pages]
    for number, (page, text) in enumerate(zip(original.pages, texts, strict=True), start=1):
        if page.extract_text() != text:
            raise SanitiseRefused(f"sanitising changed the text of page {number}")
    return texts


# --- what is searched ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Haystack:
    """Something to search: ``text`` folded, ``raw`` byte for byte."""

    where: str
    text: str = ""
    raw: bytes = b""


def _remaining(copy: PdfReader, texts: list[str], data: bytes) -> Iterator[_Haystack]:
    """Everything of the copy an expert could get at: its pages' text, every object (the
    copy has no object streams: pypdf writes every object in the cross-reference table), the
    trailer, and the bytes as written."""
    for number, text in enumerate(texts, start=1):
        yield _Haystack(f"page {number}", text=text)
    objects = [("sanitised trailer", copy.trailer)]
    objects += [(f"sanitised object {number}", IndirectObject(number, generation, copy))
                for generation, numbers in copy.xref.items() for number in numbers]  # fmt: skip
    for where, value in objects:
        for part in _direct(value.get_object()):
            yield from _haystacks(where, part, undecodable="refuse")
    yield _Haystack("sanitised bytes", raw=data)


def _direct(value: Any) -> Iterator[Any]:
    """The value and every value inside it, not following references to other objects."""
    stack = [value]
    while stack:
        value = stack.pop()
        yield value
        if isinstance(value, DictionaryObject):
            stack += dict.values(value)
        elif isinstance(value, ArrayObject):
            stack += list.__iter__(value)


def _stripped_parts(original: PdfReader) -> Iterator[_Haystack]:
    """Every string and stream of the original that the copy left out, named by the part it
    belonged to. The pages' kept drawing is walked first, unsearched, so that what it shares
    with a removed part (a page an outline points to, a font an annotation uses too) does not
    count as removed; then the pages' other keys, the trailer, and the objects that nothing
    refers to."""
    drawing: list[tuple[str | None, Any]] = []
    page_rest: list[tuple[str | None, Any]] = []
    for page in original.pages:
        for key, value in dict.items(page):
            if key in _PAGE_KEPT:
                drawing.append((None, value))
            else:
                page_rest.append((_PARTS.get(key, "page dictionary"), value))
    rest: list[tuple[str | None, Any]] = [("trailer", original.trailer)]
    rest += [("unreferenced object", IndirectObject(number, generation, original))
             for generation, numbers in original.xref.items() for number in numbers]  # fmt: skip
    rest += [("unreferenced object", IndirectObject(n, 0, original)) for n in original.xref_objStm]
    seen = {_key(page.indirect_reference) for page in original.pages}
    for where, value in _walk([*rest[::-1], *page_rest[::-1], *drawing[::-1]], seen):
        if where is not None:
            yield from _haystacks(where, value, undecodable="skip")


def _walk(
    stack: list[tuple[str | None, Any]], seen: set[tuple[int, int]]
) -> Iterator[tuple[str | None, Any]]:
    """Each value under ``stack`` (the last first), each object once, with the name of the
    removed part it belongs to, or None for a page's kept drawing."""
    while stack:
        where, value = stack.pop()
        if isinstance(value, IndirectObject):
            if _key(value) in seen:
                continue
            seen.add(_key(value))
            value = value.get_object()
        yield where, value
        if isinstance(value, DictionaryObject):
            stack += [(_part(where, key), item) for key, item in dict.items(value)]
        elif isinstance(value, ArrayObject):
            stack += [(where, item) for item in list.__iter__(value)]


def _key(reference: Any) -> tuple[int, int]:
    return (reference.idnum, reference.generation)


def _part(where: str | None, key: str) -> str | None:
    """The part a value under ``key`` belongs to: in a page's kept drawing, only what the
    copy drops everywhere is removed."""
    if where is None:
        return _PARTS[key] if key in _DROPPED_EVERYWHERE else None
    return _PARTS.get(key, where)


def _haystacks(where: str, value: Any, *, undecodable: str) -> Iterator[_Haystack]:
    """What to search in one value: a string's text and bytes, a name, a dictionary's keys, a
    stream's decoded data unless it holds pixels or glyph programs (where short patterns
    would match by chance). ``undecodable`` says what a stream that cannot be decoded does:
    "refuse" (it is in the copy, and unsearched it might hide a name) or "skip" (it was
    removed anyway)."""
    if isinstance(value, TextStringObject):
        yield _Haystack(where, text=str(value), raw=value.get_encoded_bytes())
    elif isinstance(value, ByteStringObject):
        yield _Haystack(where, text=bytes(value).decode("utf-8", "replace"), raw=bytes(value))
    elif isinstance(value, str):  # a name
        yield _Haystack(where, text=str(value))
    if isinstance(value, DictionaryObject):
        yield from (_Haystack(where, text=str(key)) for key in dict.keys(value))
    if isinstance(value, StreamObject) and not _binary(value):
        data = _decoded(value, undecodable, where)
        yield _Haystack(where, text=data.decode("utf-8", "replace"), raw=data)


def _binary(stream: StreamObject) -> bool:
    """Images, thumbnails and shadings (they have /BitsPerComponent) and font programs."""
    return (
        "/BitsPerComponent" in stream
        or "/Length1" in stream
        or stream.get("/Subtype") in _BINARY_SUBTYPES
    )


def _decoded(stream: StreamObject, undecodable: str, where: str) -> bytes:
    try:
        return stream.get_data()
    except _FAILURES as error:
        if undecodable == "skip":
            return b""
        raise SanitiseRefused(f"a stream of the sanitised copy ({where}) cannot be decoded "
                              f"to be searched: {_one_line(error)}") from None  # fmt: skip


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Folded:
    """Text folded for comparison: ``chars`` without separators, and ``edges``, the offsets
    in ``chars`` where a separator stood (or the text began or ended)."""

    chars: str
    edges: frozenset[int]


def _fold(text: str) -> _Folded:
    """NFKC (full-width letters become ASCII), case folding, then everything that is not a
    letter or a digit (white space, punctuation, symbols, invisible characters) dropped, its
    place kept. Done with C-speed string methods: a page's content stream runs to megabytes."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    words = _SEPARATORS.split(folded)
    return _Folded("".join(words), frozenset({0, *accumulate(map(len, words))}))


def occurs(needle: str, text: str) -> bool:
    """Whether ``needle`` is in ``text`` as the sanitiser compares them: for other checks of
    names in what a team sends."""
    return _occurs(_fold(needle).chars, _fold(text))


def _occurs(needle: str, haystack: _Folded) -> bool:
    start = haystack.chars.find(needle)
    while start >= 0:
        if _edge(haystack, start) and _edge(haystack, start + len(needle)):
            return True
        start = haystack.chars.find(needle, start + 1)
    return False


def _edge(haystack: _Folded, offset: int) -> bool:
    """Whether a match may begin or end at ``offset``: at a separator, or where the two
    characters around it do not run on as one word (a Chinese character is a word edge)."""
    if offset in haystack.edges:
        return True
    return not (_in_words(haystack.chars[offset - 1]) and _in_words(haystack.chars[offset]))


def _in_words(char: str) -> bool:
    """A letter or digit of a script written with spaces between words."""
    return unicodedata.east_asian_width(char) not in ("W", "F")


@dataclass(frozen=True)
class _Searched:
    """A needle prepared once: folded, and its byte patterns for the raw search."""

    needle: Needle
    folded: _Folded
    patterns: frozenset[bytes]

    @classmethod
    def of(cls, needle: Needle) -> _Searched:
        forms = {needle.text, unicodedata.normalize("NFKC", needle.text)}
        patterns = {pattern for form in forms for pattern in _encodings(form)}
        long_enough = frozenset(pattern for pattern in patterns if len(pattern) >= MIN_RAW_BYTES)
        return cls(needle, _fold(needle.text), long_enough)

    def hit(self, where: str) -> Hit:
        return Hit(kind=self.needle.kind, text=self.needle.text, where=where)


def _encodings(text: str) -> Iterator[bytes]:
    """The text as a PDF may store it: UTF-8, UTF-16BE, PDFDocEncoding and Latin-1 (the last
    two where they can encode it)."""
    yield text.encode("utf-8")
    yield text.encode("utf-16-be")
    for encode in (encode_pdfdocencoding, lambda form: form.encode("latin-1")):
        try:
            yield encode(text)
        except UnicodeEncodeError:
            continue


def _found(needles: Sequence[_Searched], haystacks: Iterable[_Haystack]) -> tuple[Hit, ...]:
    """Each needle found, once per place, in the order found."""
    hits: dict[Hit, None] = {}
    for haystack in haystacks:
        folded = _fold(haystack.text)
        for needle in needles:
            if _occurs(needle.folded.chars, folded) or any(
                pattern in haystack.raw for pattern in needle.patterns
            ):
                hits.setdefault(needle.hit(haystack.where))
    return tuple(hits)
