"""The VAT ID and the Leitweg-ID, checked with python-stdnum; the messages say what is wrong."""

from __future__ import annotations

import pytest
from django.utils import translation
from stdnum.de import leitweg
from stdnum.eu import vat

from tests.customers.conftest import VALID_LEITWEG_ID, VALID_VAT_ID
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.validation import clean_leitweg_id, clean_vat_id


def test_the_examples_are_valid_for_stdnum_itself():
    assert vat.is_valid(VALID_VAT_ID)
    assert leitweg.is_valid(VALID_LEITWEG_ID)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("DE-136.695.976", "DE136695976"),
        ("ATU13585627", "ATU13585627"),
    ],
)
def test_valid_vat_ids_are_stored_compact(typed: str, stored: str):
    assert clean_vat_id(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["DE136695977", "136695976", "DE12345", "XX136695976", "Umsatzsteuer", "ATU13585626"],
)
def test_invalid_vat_ids_are_refused_with_a_german_message(typed: str):
    with translation.override("de"), pytest.raises(DomainError) as refused:
        clean_vat_id(typed)
    assert refused.value.code == "vat_id"
    assert "USt-IdNr." in str(refused.value.message)


def test_an_empty_vat_id_asks_for_it():
    with translation.override("de"), pytest.raises(DomainError) as refused:
        clean_vat_id("  ")
    assert str(refused.value.message) == "Bitte geben Sie die USt-IdNr. ein."


@pytest.mark.parametrize("typed", [VALID_LEITWEG_ID, "991-03730-19", " 991-03730-19 "])
def test_valid_leitweg_ids(typed: str):
    assert clean_leitweg_id(typed) == typed.strip()


@pytest.mark.parametrize(
    "typed", ["04011000-1234512345-07", "1-03730-19", "991-03730-18", "Leitweg", "12345"]
)
def test_invalid_leitweg_ids_are_refused_with_a_german_message(typed: str):
    with translation.override("de"), pytest.raises(DomainError) as refused:
        clean_leitweg_id(typed)
    assert refused.value.code == "leitweg_id"
    assert "Leitweg-ID ist ungültig" in str(refused.value.message)
