"""Identity normalisation (services/identity.py), name checks (domain/names.py), the strict file
schema's accepted forms, and the PDF active-content checks, one rule at a time."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from domain import errors
from domain.names import hidden_character, name_key, shown
from services import identity, intake, strict_files
from services.uploads import check_pdf, read_at_most

EXAMPLES = intake.Path(__file__).resolve().parents[2] / "docs" / "examples"


# --- resident ID (GB 11643-1999) -------------------------------------------------------------


def test_the_standards_own_example_is_valid_and_its_neighbours_are_not():
    assert identity.id_card_number("11010519491231002X") == "11010519491231002X"
    assert identity.id_card_number("11010519491231002x") == "11010519491231002X"
    for wrong in "0123456789":
        with pytest.raises(ValueError, match="GB 11643-1999"):
            identity.id_card_number("11010519491231002" + wrong)


@pytest.mark.parametrize(
    "spelling",
    [
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width
        "110105 19491231 002X",
        "\u200b110105\u200d19491231\ufeff002x",  # zero-width space, joiner, BOM
        "\u202d11010519491231002X\u202c",  # bidi override around it
    ],
)
def test_every_spelling_of_one_id_card_is_one_number(spelling):
    assert identity.id_card_number(spelling) == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("٤٥٠١٠٣١٩٩٩٠١٠١٠٠١١", "17 digits"),  # Arabic-Indic digits are refused, not folded
        ("1101051949123100", "17 digits"),
        ("11010518991231002X", "birth date"),
        ("110105194913310021", "birth date"),
    ],
)
def test_id_card_numbers_of_the_wrong_shape_are_refused(number, problem):
    with pytest.raises(ValueError, match=problem):
        identity.id_card_number(number)


def example_people() -> list:
    """Every person of the example files: the leaders' records and the member files."""
    leaders = [intake.load_team(path).leader for path in sorted(EXAMPLES.glob("team-*.yaml"))]
    members = [intake.load_member(path) for path in sorted(EXAMPLES.glob("members/*.yaml"))]
    return leaders + members


def test_the_examples_resident_ids_are_valid():
    people = example_people()
    assert len(people) == 7
    for person in people:
        if person.identity.type == "id_card":
            assert identity.id_card_number(person.identity.number) == person.identity.number


# --- passports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["SE", "se", "SWE", "ｓｗｅ", " S\u200bE "])
def test_a_country_is_stored_as_alpha_3(code):
    assert identity.country_alpha3(code) == "SWE"


@pytest.mark.parametrize("code", ["XX", "XXX", "Sweden", "S", "D", "", "ЅЕ"])
def test_a_country_that_is_no_iso_code_is_refused(code):
    with pytest.raises(ValueError, match="ISO 3166-1"):
        identity.country_alpha3(code)


def test_passport_numbers_fold_to_one_and_look_alikes_are_refused():
    assert identity.passport_number(" ab12\u200b34567 ") == "AB1234567"
    assert identity.passport_number("ＡＢ１２３４５６７") == "AB1234567"
    with pytest.raises(ValueError, match="letters A-Z"):
        identity.passport_number("АВ1234567")  # Cyrillic А and В


def test_the_lijiang_passport_is_stored_as_swe():
    leader = intake.load_team(EXAMPLES / "team-lijiang.yaml").leader
    member = intake.load_member(EXAMPLES / "members" / "lijiang-berg.yaml")
    assert [leader.identity.text, member.identity.text] == [
        "id_card:450305199504040042",
        "passport:SWE:AB1234567",
    ]


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("a\u200bb", "U+200B ZERO WIDTH SPACE"),
        ("a\u202eb", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("a\x1bb", "U+001B"),
        ("a\nb", "U+000A"),
        ("a\u2028b", "U+2028 LINE SEPARATOR"),
        ("\u3164", "U+3164 HANGUL FILLER"),
        ("a\ue000", "U+E000"),
    ],
)
def test_names_with_hidden_characters_are_named(text, described):
    assert hidden_character(text) == described


@pytest.mark.parametrize("text", ["邕江慧影", "Lijiang Vision", "Anna-Lena O'Brien", "Zoë"])
def test_ordinary_names_pass(text):
    assert hidden_character(text) is None and name_key(text)


def test_names_equal_after_normalisation_have_one_key():
    assert (
        name_key("Lijiang Vision")
        == name_key("ＬＩＪＩＡＮＧ　ｖｉｓｉｏｎ")
        == name_key("lijiangvision")
    )
    assert name_key("邕江慧影") == name_key(" 邕 江 慧 影 ")
    assert name_key("\u3000 \u00a0") == ""


def test_a_hostile_value_is_quoted_harmlessly():
    assert shown("abc\u202edef") == "'abc\\u202edef'"
    assert shown("x" * 100, limit=5) == "'xxxxx…'"


# --- the file schema: what it accepts ----------------------------------------------------------


def test_a_quoted_time_without_offset_is_shanghai_time(tmp_path):
    text = (EXAMPLES / "contest-2026.yaml").read_text(encoding="utf-8")
    text = text.replace("final_end: 2026-10-19T00:00:00+08:00", 'final_end: "2026-10-19T00:00:00"')
    (tmp_path / "contest.yaml").write_text(text, encoding="utf-8")
    contest = intake.load_contest(tmp_path / "contest.yaml")
    assert contest.calendar.final_end.isoformat() == "2026-10-19T00:00:00+08:00"


def test_a_quoted_date_alone_is_not_a_time(tmp_path):
    text = (EXAMPLES / "contest-2026.yaml").read_text(encoding="utf-8")
    text = text.replace("final_end: 2026-10-19T00:00:00+08:00", 'final_end: "2026-10-19"')
    (tmp_path / "contest.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(
        strict_files.FileInvalid, match=r"calendar\.final_end: not an ISO 8601 time"
    ):
        intake.load_contest(tmp_path / "contest.yaml")


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    data = (EXAMPLES / "team-beibu.yaml").read_bytes()
    (tmp_path / "team.yaml").write_bytes(b"\xef\xbb\xbf" + data)
    assert intake.load_team(tmp_path / "team.yaml").name == "北部湾智影"


def test_a_document_reached_through_a_symbolic_link_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "team.yaml").write_bytes((EXAMPLES / "team-beibu.yaml").read_bytes())
    (tmp_path / "documents").symlink_to(EXAMPLES / "documents")
    with pytest.raises(strict_files.FileInvalid, match="outside the team file's folder"):
        intake.load_team(tmp_path / "team.yaml")


def test_a_file_over_its_cap_is_refused_after_reading_one_byte_more(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_bytes(b"#" * (strict_files.YAML_LIMIT + 10))
    assert len(read_at_most(path, strict_files.YAML_LIMIT)) == strict_files.YAML_LIMIT + 1
    with pytest.raises(strict_files.FileInvalid, match="larger than the limit"):
        intake.load_team(path)


# --- PDF active content ------------------------------------------------------------------------


def _pdf(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    if change:
        change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _name(text: str) -> NameObject:
    return NameObject(text)


def _link(uri: str):
    def change(writer: PdfWriter) -> None:
        action = DictionaryObject(
            {_name("/S"): _name("/URI"), _name("/URI"): TextStringObject(uri)}
        )
        annotation = DictionaryObject(
            {
                _name("/Type"): _name("/Annot"),
                _name("/Subtype"): _name("/Link"),
                _name("/A"): action,
            }
        )
        writer.pages[0][_name("/Annots")] = ArrayObject([writer._add_object(annotation)])

    return change


def _orphan(entries: dict):
    def change(writer: PdfWriter) -> None:
        writer._add_object(DictionaryObject({_name(k): v for k, v in entries.items()}))

    return change


SCRIPT, EMBEDDED = errors.UploadHasScript, errors.UploadHasEmbeddedFile


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (_link("javascript:alert(1)"), SCRIPT),
        (_link("JaVa\tScRiPt:alert(1)"), SCRIPT),
        (_orphan({"/S": _name("/Launch"), "/F": TextStringObject("calc.exe")}), SCRIPT),
        (_orphan({"/XFA": TextStringObject("<xdp/>")}), SCRIPT),
        (_orphan({"/Type": _name("/Annot"), "/Subtype": _name("/FileAttachment")}), EMBEDDED),
        (lambda writer: writer.add_attachment("a.txt", b"hi"), EMBEDDED),
    ],
)
def test_active_content_anywhere_in_the_file_is_refused(change, refusal):
    with pytest.raises(refusal) as refused:
        check_pdf(_pdf(change), name="scan.pdf")
    assert "scan.pdf" in refused.value.message("en")


def test_an_ordinary_link_is_fine():
    assert check_pdf(_pdf(_link("https://example.org/")), name="scan.pdf").pages == 1
