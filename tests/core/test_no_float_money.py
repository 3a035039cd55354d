"""No float touches money: core/money.py, and every module that imports it, contains no float
literal, no ``float(...)`` call, no ``Decimal(<float>)`` and no ``Decimal.from_float``.

A module that imports money handles amounts, so a float anywhere in it is one edit away from
an amount (0.1 + 0.2 != 0.3; round(2.675, 2) == 2.67). The check reads the source (AST), so it
needs no running code and cannot be switched off by a code path a test does not reach. A
module with a real need for a float (a timeout, say) keeps that code out of the module that
handles money.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parents[2] / "src"
PACKAGE_DIR = SRC_DIR / "treffpunkt"
MONEY_MODULE = "treffpunkt.core.money"


def module_name(path: Path) -> str:
    """The dotted name of a module under src/ ("treffpunkt.core.money")."""
    parts = path.relative_to(SRC_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> set[str]:
    """The absolute names of the modules an import statement may load (relative ones resolved
    against ``module``; for ``from a import b`` both ``a`` and ``a.b``, since b may be one)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return {base} | {f"{base}.{alias.name}" for alias in node.names}


def handles_money(tree: ast.AST, module: str, *, is_package: bool = False) -> bool:
    """Whether the module is money.py itself or imports from it, in any of the ways Python
    allows (``from treffpunkt.core.money import x``, ``from treffpunkt.core import money``,
    ``import treffpunkt.core.money``, ``from .money import x``, ``from .. import money``)."""
    if module == MONEY_MODULE:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = _imported_modules(node, module, is_package)
            if any(name == MONEY_MODULE or name.startswith(f"{MONEY_MODULE}.") for name in names):
                return True
    return False


def _is_float_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, float)


def _called_name(call: ast.Call) -> str:
    """ "float", "Decimal", "decimal.Decimal", "Decimal.from_float"… for a call, else ""."""
    parts: list[str] = []
    func: ast.AST = call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return ""


def float_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every place in ``source`` where a float meets money, as "file:line: what"."""
    tree = ast.parse(source, filename)
    found: list[tuple[int, str]] = []
    decimal_of_float: set[int] = set()  # literals already reported as Decimal(<float>)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name in {"float", "builtins.float"}:
            found.append((node.lineno, "float(...) call"))
        elif name.endswith("from_float"):
            found.append((node.lineno, f"{name}(...) call"))
        elif (
            name in {"Decimal", "decimal.Decimal"} and node.args and _is_float_literal(node.args[0])
        ):
            found.append((node.lineno, "Decimal(<float literal>)"))
            decimal_of_float.update(id(child) for child in ast.walk(node.args[0]))
        # float handed over as a function: map(float, amounts), sorted(key=float)
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            if isinstance(argument, ast.Name) and argument.id == "float":
                found.append((node.lineno, "float passed as a function"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, float)
            and id(node) not in decimal_of_float
        ):
            found.append((node.lineno, f"float literal {node.value!r}"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def money_modules() -> dict[str, Path]:
    """Every module of src/treffpunkt that handles money, by its dotted name."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module = module_name(path)
        if handles_money(tree, module, is_package=path.name == "__init__.py"):
            modules[module] = path
    return modules


def test_no_float_touches_money_anywhere_in_the_source():
    modules = money_modules()
    # The scan must have found what is known to handle money, or it proves nothing.
    assert MONEY_MODULE in modules
    assert "treffpunkt.core.templatetags.money" in modules
    found = [
        use
        for path in modules.values()
        for use in float_uses(path.read_text(encoding="utf-8"), str(path.relative_to(SRC_DIR)))
    ]
    assert not found, "Money is Decimal, never float (see core/money.py):\n" + "\n".join(found)


BAD_SNIPPET = """\
from decimal import Decimal
import decimal

from treffpunkt.core.money import round_money

price = 19.99
net = round_money(Decimal(0.1))
gross = float(net) * 1.19
cents = Decimal(-2.5)
wrapped = decimal.Decimal("1") + Decimal.from_float(net)
totals = list(map(float, [net]))
exponent = 1e3
"""


def test_the_check_flags_float_literals_float_calls_and_decimal_of_a_float():
    assert handles_money(ast.parse(BAD_SNIPPET), "treffpunkt.billing.services")
    assert float_uses(BAD_SNIPPET, "bad.py") == [
        "bad.py:6: float literal 19.99",
        "bad.py:7: Decimal(<float literal>)",
        "bad.py:8: float literal 1.19",
        "bad.py:8: float(...) call",
        "bad.py:9: Decimal(<float literal>)",
        "bad.py:10: Decimal.from_float(...) call",
        "bad.py:11: float passed as a function",
        "bad.py:12: float literal 1000.0",
    ]


def test_the_check_leaves_decimal_text_ints_and_the_word_float_in_text_alone():
    clean = (
        "from decimal import Decimal\n"
        'amount = Decimal("0.1") + Decimal(3) * 2\n'
        'note = "never a float(1.5)"\n'
        "cents = int(amount * 100)\n"
    )
    assert float_uses(clean) == []


def test_the_check_finds_every_way_of_importing_money():
    ways = [
        "from treffpunkt.core.money import round_money",
        "from treffpunkt.core import money",
        "import treffpunkt.core.money",
        "import treffpunkt.core.money as m",
        "from treffpunkt.core.money import (\n    format_money,\n)",
        "def f():\n    from treffpunkt.core.money import round_money",
    ]
    for source in ways:
        assert handles_money(ast.parse(source), "treffpunkt.billing.services"), source
    # Relative imports, resolved against where the module is.
    assert handles_money(ast.parse("from .money import round_money"), "treffpunkt.core.x")
    assert handles_money(ast.parse("from . import money"), "treffpunkt.core.x")
    assert handles_money(
        ast.parse("from ..money import format_money"), "treffpunkt.core.templatetags.money"
    )
    assert handles_money(
        ast.parse("from .money import round_money"), "treffpunkt.core", is_package=True
    )


def test_the_check_leaves_modules_that_do_not_handle_money_alone():
    others = [
        "import treffpunkt.core.clock",
        "from treffpunkt.core import clock, errors",
        "from treffpunkt.core.moneylike import x",
        "from .money import round_money",  # relative to treffpunkt.billing: another module
    ]
    for source in others:
        assert not handles_money(ast.parse(source), "treffpunkt.billing.services"), source
