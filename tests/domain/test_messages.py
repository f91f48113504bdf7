"""Every domain error has a zh and an en text with the same placeholders."""

from __future__ import annotations

import pickle
import string

import pytest

from domain import errors
from domain.messages import LANGUAGES, MESSAGES

ERROR_CLASSES = [
    value
    for value in vars(errors).values()
    if isinstance(value, type)
    and issubclass(value, errors.DomainError)
    and value is not errors.DomainError
]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_error_has_both_languages_with_the_same_facts(cls):
    texts = MESSAGES[cls.key]
    assert set(texts) == set(LANGUAGES)
    assert fields(texts["zh"]) == fields(texts["en"])
    error = cls(**{name: "X" for name in fields(texts["en"])})
    assert error.message("zh") != error.message("en")
    assert pickle.loads(pickle.dumps(error)).facts == error.facts


def test_every_key_is_used_by_one_error():
    """Every message is an error's, except the labels of what a team sees (overview.*)."""
    keys = [cls.key for cls in ERROR_CLASSES]
    refusals = [key for key in MESSAGES if not key.startswith("overview.")]
    assert sorted(keys) == sorted(refusals) and len(set(keys)) == len(keys)


def test_missing_facts_are_a_programming_error():
    with pytest.raises(TypeError):
        errors.RegistrationClosed()
