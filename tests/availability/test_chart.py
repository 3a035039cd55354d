"""The availability chart: an accessible SVG built safely from plain values, no database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from treffpunkt.availability.chart import (
    BELOW_GOAL_COLOUR,
    BELOW_GOAL_MARKER,
    GAP_LABEL,
    GOAL_MET_COLOUR,
    PLOT_HEIGHT,
    PLOT_TOP,
    SVG_NAMESPACE,
    TEXT_COLOUR,
    Chart,
    MonthBar,
    availability_chart,
)

NS = {"svg": SVG_NAMESPACE}


def months(*percents: str | None) -> list[MonthBar]:
    """One bar per figure, monthly from 01/2027 on."""
    return [
        MonthBar(
            month=date(2027 + index // 12, index % 12 + 1, 1),
            percent=None if percent is None else Decimal(percent),
            label=f"{index % 12 + 1:02d}/{2027 + index // 12}",
        )
        for index, percent in enumerate(percents)
    ]


def chart(
    bars: list[MonthBar],
    *,
    title: str = "Availability",
    description: str = "Twelve months.",
    **options: Any,
) -> Chart:
    return availability_chart(bars, title=title, description=description, **options)


def parse(result: Chart) -> ET.Element:
    # The SVG is our own output, built in the same process: nothing untrusted is parsed.
    return ET.fromstring(result.svg)  # noqa: S314


def month_group(root: ET.Element, month: date) -> ET.Element:
    group = root.find(f"svg:g[@data-month='{month.isoformat()}']", NS)
    assert group is not None
    return group


def bar_rects(root: ET.Element) -> list[ET.Element]:
    return [
        rect
        for rect in root.iter(f"{{{SVG_NAMESPACE}}}rect")
        if "bar" in rect.get("class", "").split()
    ]


def value_text(group: ET.Element) -> str:
    values = [t for t in group.findall("svg:text", NS) if "value" in t.get("class", "").split()]
    assert len(values) == 1
    return values[0].text or ""


# April and September are below the goal, July has no figure.
FIGURES = (
    "99.53",
    "100",
    "98.10",
    "96.20",
    "97.00",
    "99.99",
    None,
    "97.01",
    "95",
    "99",
    "100",
    "98",
)
TWELVE = months(*FIGURES)


def test_svg_parses_as_xml() -> None:
    root = parse(chart(TWELVE))

    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox", ""))


def test_svg_is_an_image_labelled_by_its_title_and_description() -> None:
    root = parse(chart(TWELVE))

    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    # Title and description come first, in that order.
    first, second = list(root)[:2]
    assert (first.tag, first.get("id"), first.text) == (
        f"{{{SVG_NAMESPACE}}}title",
        title_id,
        "Availability",
    )
    assert (second.tag, second.get("id"), second.text) == (
        f"{{{SVG_NAMESPACE}}}desc",
        desc_id,
        "Twelve months.",
    )


def test_title_and_description_are_escaped() -> None:
    result = chart(
        TWELVE,
        title='<script>alert("x")</script>',
        description="A & B <img src=x onerror=alert(1)>",
    )
    root = parse(result)

    assert "<script" not in result.svg
    assert "<img" not in result.svg
    assert "&lt;script&gt;" in result.svg
    assert not list(root.iter(f"{{{SVG_NAMESPACE}}}script"))
    assert not list(root.iter("script"))
    # The parsed text is the caller's text again, so screen readers read what was meant.
    assert root.findtext("svg:title", namespaces=NS) == '<script>alert("x")</script>'
    assert root.findtext("svg:desc", namespaces=NS) == "A & B <img src=x onerror=alert(1)>"
    # The dataclass keeps the plain text for the template, which escapes it itself.
    assert result.title == '<script>alert("x")</script>'


def test_month_labels_and_goal_label_are_escaped() -> None:
    bars = [MonthBar(month=date(2027, 1, 1), percent=Decimal("99"), label="<b>01/2027</b>")]
    result = chart(bars, goal_label="<i>goal</i>")

    assert "<b>" not in result.svg and "<i>" not in result.svg
    texts = [t.text for t in parse(result).iter(f"{{{SVG_NAMESPACE}}}text")]
    assert "<b>01/2027</b>" in texts and "<i>goal</i>" in texts


def test_twelve_months_give_twelve_bars() -> None:
    bars = months(*["99"] * 12)
    root = parse(chart(bars))

    assert len(bar_rects(root)) == 12
    assert len(root.findall("svg:g[@class='month']", NS)) == 12


def test_each_bar_has_a_title_with_month_and_figure() -> None:
    root = parse(chart(TWELVE))

    rect = month_group(root, date(2027, 1, 1)).find("svg:rect", NS)
    assert rect is not None
    assert rect.findtext("svg:title", namespaces=NS) == "01/2027: 99.53 %"


def test_month_below_goal_is_hatched_and_marked() -> None:
    root = parse(chart(TWELVE))
    group = month_group(root, date(2027, 4, 1))  # 96.20 %

    rect = group.find("svg:rect", NS)
    assert rect is not None
    fill = rect.get("fill", "")
    hatch_id = re.fullmatch(r"url\(#([\w-]+)\)", fill)
    assert hatch_id is not None
    pattern = root.find(f"svg:defs/svg:pattern[@id='{hatch_id.group(1)}']", NS)
    assert pattern is not None
    assert value_text(group) == f"{BELOW_GOAL_MARKER} 96.20 %"


def test_month_at_or_above_goal_is_solid_and_unmarked() -> None:
    root = parse(chart(TWELVE))

    for month, expected in ((date(2027, 5, 1), "97.00 %"), (date(2027, 8, 1), "97.01 %")):
        group = month_group(root, month)
        rect = group.find("svg:rect", NS)
        assert rect is not None
        assert rect.get("fill") == GOAL_MET_COLOUR
        assert value_text(group) == expected
        assert BELOW_GOAL_MARKER not in value_text(group)


def test_month_without_figure_is_a_gap() -> None:
    root = parse(chart(TWELVE))
    group = month_group(root, date(2027, 7, 1))

    assert group.find("svg:rect", NS) is None
    gap = group.find("svg:text[@class='gap']", NS)
    assert gap is not None
    assert "".join(gap.itertext()).endswith(GAP_LABEL)
    assert len(bar_rects(root)) == 11


def test_goal_line_sits_at_97_on_the_scale() -> None:
    floor = Decimal(90)
    root = parse(chart(TWELVE, floor=floor))

    line = root.find("svg:line[@class='goal']", NS)
    assert line is not None
    # 97 is 3 of the 10 points below the top of the scale.
    expected = PLOT_TOP + PLOT_HEIGHT * (Decimal(100) - Decimal(97)) / (Decimal(100) - floor)
    assert Decimal(line.get("y1", "")) == expected.quantize(Decimal("0.01"))
    assert line.get("y1") == line.get("y2")
    assert line.get("stroke-dasharray")
    label = root.find("svg:text[@class='goal-label']", NS)
    assert label is not None and label.text == "97.0 %"


def test_axis_ticks_at_floor_middle_and_100() -> None:
    root = parse(chart(TWELVE, floor=Decimal(90)))

    labels = [t.text for t in root.findall("svg:text[@class='tick-label']", NS)]
    assert labels == ["90 %", "95 %", "100 %"]


def test_tick_between_whole_numbers_uses_the_callers_format() -> None:
    root = parse(
        chart(TWELVE, floor=Decimal(85), format_percent=lambda p: f"{p:.1f} %".replace(".", ","))
    )

    labels = [t.text for t in root.findall("svg:text[@class='tick-label']", NS)]
    assert labels == ["85 %", "92,5 %", "100 %"]


def test_percent_formatting_is_the_callers() -> None:
    root = parse(chart(TWELVE, format_percent=lambda p: f"{p:.2f} %".replace(".", ",")))

    assert value_text(month_group(root, date(2027, 1, 1))) == "99,53 %"
    assert value_text(month_group(root, date(2027, 4, 1))) == f"{BELOW_GOAL_MARKER} 96,20 %"


def test_same_input_gives_same_bytes() -> None:
    # Built afresh from the same figures, not the same objects.
    assert chart(months(*FIGURES)).svg == chart(months(*FIGURES)).svg


def test_different_input_gives_different_ids() -> None:
    first = parse(chart(TWELVE))
    other = parse(chart(months("99", "98")))

    ids = {element.get("id") for element in first.iter() if element.get("id")}
    other_ids = {element.get("id") for element in other.iter() if element.get("id")}
    assert len(ids) == 3  # title, description, hatch pattern
    assert not ids & other_ids


def test_value_below_floor_is_clamped_but_labelled_truly() -> None:
    root = parse(chart(months("85.5", "90", "99"), floor=Decimal(90)))

    below = month_group(root, date(2027, 1, 1))
    at_floor = month_group(root, date(2027, 2, 1))
    below_rect, floor_rect = below.find("svg:rect", NS), at_floor.find("svg:rect", NS)
    assert below_rect is not None and floor_rect is not None
    # Both stand on the floor as the same stub; the label tells them apart.
    assert below_rect.get("height") == floor_rect.get("height")
    assert below_rect.get("y") == floor_rect.get("y")
    assert Decimal(below_rect.get("height", "")) > 0
    assert value_text(below) == f"{BELOW_GOAL_MARKER} 85.50 %"


def test_no_url_but_the_svg_namespace() -> None:
    svg = chart(TWELVE).svg

    assert re.findall(r"https?://[^\s\"'<>]*", svg) == [SVG_NAMESPACE]
    assert "<script" not in svg
    assert "href" not in svg
    assert "@import" not in svg
    assert not re.search(r"\son\w+=", svg)


def test_coordinates_have_at_most_two_decimals() -> None:
    # Thirteen months give slot widths with long fractions.
    svg = chart(months(*["99.123"] * 13)).svg

    coordinates = re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"%]*)"', svg)
    assert coordinates
    assert all(re.fullmatch(r"-?\d+(\.\d{1,2})?", value) for value in coordinates)


def _contrast_with_white(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def test_colours_meet_wcag_aa_against_white() -> None:
    for colour in (GOAL_MET_COLOUR, BELOW_GOAL_COLOUR, TEXT_COLOUR):
        assert _contrast_with_white(colour) >= 4.5
    assert GOAL_MET_COLOUR != BELOW_GOAL_COLOUR


def test_floor_must_be_below_100() -> None:
    with pytest.raises(ValueError, match="floor"):
        chart(TWELVE, floor=Decimal(100))


def test_no_months_still_renders_the_axes() -> None:
    root = parse(chart([]))

    assert not bar_rects(root)
    assert root.find("svg:line[@class='goal']", NS) is not None
