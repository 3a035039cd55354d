"""The translation catalogues stay complete: every English source string has a German
translation, the committed .mo files are what their .po files compile to, and the catalogue
lists exactly the strings that the code and templates contain.

Refresh the catalogues after changing strings (from the repository root):

    cd src/treffpunkt
    PYTHONPATH=../ uv run django-admin makemessages -l de -l en \
        --settings=treffpunkt.settings --ignore='migrations/*'
    # translate the new or changed entries in locale/de/LC_MESSAGES/django.po
    PYTHONPATH=../ uv run django-admin compilemessages --settings=treffpunkt.settings
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

SRC_DIR = Path(__file__).resolve().parents[2] / "src" / "treffpunkt"
LOCALE_DIR = SRC_DIR / "locale"
LANGUAGES = ("de", "en")
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]|%[a-z%]")

# (context, source string, plural source string, translation or plural translations)
Pair = tuple[str | None, str, str, str | tuple[tuple[int, str], ...]]


def _po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def _mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"


def _live_entries(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalogue if not entry.obsolete]


def _keys(catalogue: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in _live_entries(catalogue)}


def _pairs(catalogue: polib.POFile | polib.MOFile) -> set[Pair]:
    """What a compiled catalogue maps: source string (with context and plural) to translation."""
    pairs: set[Pair] = set()
    for entry in catalogue.translated_entries():
        translation = (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        pairs.add((entry.msgctxt, entry.msgid, entry.msgid_plural, translation))
    return pairs


def _describe(entries: list[polib.POEntry]) -> str:
    return "\n".join(f"  - {entry.msgid!r}" for entry in entries)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_a_catalogue_and_a_compiled_file(language: str) -> None:
    assert _po_path(language).is_file(), f"missing {_po_path(language)}"
    assert _mo_path(language).is_file(), f"missing {_mo_path(language)}: run compilemessages"
    metadata = polib.pofile(str(_po_path(language))).metadata
    assert metadata.get("Language") == language
    assert metadata.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"


def test_german_catalogue_translates_every_string() -> None:
    catalogue = polib.pofile(str(_po_path("de")))
    assert _live_entries(catalogue), "the German catalogue is empty"
    untranslated = catalogue.untranslated_entries()
    fuzzy = catalogue.fuzzy_entries()
    assert not untranslated and not fuzzy, (
        f"German catalogue {_po_path('de')} is incomplete.\n"
        f"{len(untranslated)} string(s) without translation:\n{_describe(untranslated)}\n"
        f"{len(fuzzy)} translation(s) marked fuzzy (check them, then remove the flag):\n"
        f"{_describe(fuzzy)}"
    )
    assert not catalogue.metadata_is_fuzzy, "the header of the German catalogue is fuzzy"


def test_german_translations_keep_every_placeholder() -> None:
    broken = []
    for entry in _live_entries(polib.pofile(str(_po_path("de")))):
        if entry.msgid_plural:
            expected = sorted(PLACEHOLDER.findall(entry.msgid_plural))
            translations = list(entry.msgstr_plural.values())
        else:
            expected = sorted(PLACEHOLDER.findall(entry.msgid))
            translations = [entry.msgstr]
        if any(sorted(PLACEHOLDER.findall(text)) != expected for text in translations):
            broken.append(entry)
    assert not broken, "German translation(s) lose or add a placeholder:\n" + _describe(broken)


def test_german_plural_strings_have_both_forms() -> None:
    missing = [
        entry
        for entry in _live_entries(polib.pofile(str(_po_path("de"))))
        if entry.msgid_plural and set(entry.msgstr_plural) != {0, 1}
    ]
    assert not missing, "German plural entries need msgstr[0] and msgstr[1]:\n" + _describe(missing)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogues_match_their_sources(language: str, tmp_path: Path) -> None:
    source = polib.pofile(str(_po_path(language)))
    fresh_mo = tmp_path / "django.mo"
    source.save_as_mofile(str(fresh_mo))
    expected = polib.mofile(str(fresh_mo))
    committed = polib.mofile(str(_mo_path(language)))

    missing = _pairs(expected) - _pairs(committed)
    stale = _pairs(committed) - _pairs(expected)
    assert not missing and not stale, (
        f"{_mo_path(language)} does not match {_po_path(language)}; run compilemessages.\n"
        f"Not in the .mo file: {sorted(p[1] for p in missing)}\n"
        f"Only in the .mo file: {sorted(p[1] for p in stale)}"
    )
    for field in ("Language", "Plural-Forms"):
        assert committed.metadata.get(field) == source.metadata.get(field), field


def test_catalogue_covers_every_string_in_the_code(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        # CI installs gettext, so there the check always runs; a developer without it is told.
        if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
            pytest.fail("GNU gettext (xgettext) is missing, and CI must run this check")
        pytest.skip("GNU gettext (xgettext) is missing: install it to check the catalogue")
    committed_po = _po_path("de")
    before = hashlib.sha256(committed_po.read_bytes()).hexdigest()

    copy = tmp_path / "treffpunkt"
    shutil.copytree(SRC_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale"))
    (copy / "locale").mkdir()
    # Without settings makemessages writes only to ./locale, never to the real LOCALE_PATHS.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "de",
            "--ignore=migrations/*",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert hashlib.sha256(committed_po.read_bytes()).hexdigest() == before

    in_code = _keys(polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")))
    in_catalogue = _keys(polib.pofile(str(committed_po)))
    new = sorted(key[1] for key in in_code - in_catalogue)
    gone = sorted(key[1] for key in in_catalogue - in_code)
    assert not new and not gone, (
        "The catalogue is out of date; run makemessages and translate (see module docstring).\n"
        f"Strings in the code but not in the catalogue: {new}\n"
        f"Strings in the catalogue but no longer in the code: {gone}"
    )
    assert in_code, "makemessages found no strings at all"
