"""The customer's monthly availability of the last twelve months as an accessible SVG bar chart.

Rendered on the server so the report needs no script and no chart library: the template includes
``{{ chart.svg|safe }}``. Because the result is marked safe, every text that goes into the SVG
(title, description, month labels, formatted figures) passes through ``html.escape`` here; the
caller's strings are never trusted.

Accessibility (WCAG 2.1 AA):

- The root is ``role="img"`` and is named and described by its own ``<title>`` and ``<desc>``
  through ``aria-labelledby``, so a screen reader announces one image with the caller's title and
  description (which should state the figures in words).
- Each bar carries a ``<title>`` child ("03/2027: 99.53 %") as a tooltip for pointer users.
- Colour alone never carries the meaning (1.4.1): a month below the goal is drawn with a hatched
  fill *and* a "▼" before its value; both colours have at least 4.5:1 contrast against white,
  more than the 3:1 that graphical objects need (1.4.11).
- A month without a figure (no contract) is a gap with the label "–", not a zero-height bar
  that could be read as 0 %.

The ids inside the SVG (title, description, hatch pattern) must be unique on the page, yet the
same input must give the same bytes (cacheable, testable). So they are derived from a hash of the
rendered chart instead of a counter: two charts differ in id exactly when they differ in content,
and two identical charts on one page share ids that point at identical elements.

Nothing here touches the database: the caller passes the months as plain values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from treffpunkt.availability.figures import GOAL

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

# Colours: contrast against white is 6.8:1 for the bar that meets the goal, 6.5:1 for the one
# below it and 17.4:1 for text, all above the 4.5:1 of AA for normal text.
GOAL_MET_COLOUR = "#1f5f8b"
BELOW_GOAL_COLOUR = "#b3261e"
TEXT_COLOUR = "#1a1a1a"
# The grid lines only help the eye; the tick labels carry the scale, so they may be light.
GRID_COLOUR = "#c8c8c8"

BELOW_GOAL_MARKER = "▼"
GAP_LABEL = "–"

# The layout in user units of the viewBox; the SVG scales to the width of its container.
WIDTH = Decimal(880)
HEIGHT = Decimal(320)
PLOT_LEFT = Decimal(56)  # room for the tick labels ("100 %")
PLOT_RIGHT = Decimal(104)  # room for the goal label to the right of the plot
PLOT_TOP = Decimal(32)  # room for the value label above a 100 % bar
PLOT_BOTTOM = Decimal(44)  # room for the month labels
PLOT_WIDTH = WIDTH - PLOT_LEFT - PLOT_RIGHT
PLOT_HEIGHT = HEIGHT - PLOT_TOP - PLOT_BOTTOM
BAR_SHARE = Decimal("0.6")  # of a month's slot; the rest separates the bars
# A month at or below the floor still shows a stub, so it is not mistaken for a gap.
MIN_BAR_HEIGHT = Decimal(3)
FONT_SIZE = 11

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthBar:
    month: date  # first day of the month
    percent: Decimal | None  # None: no figure (no contract that month), drawn as a gap "–"
    label: str  # the month as the page shows it, e.g. "03/2027" (already localized)


@dataclass(frozen=True)
class Chart:
    svg: str  # the <svg> element, safe to include unescaped
    title: str  # plain text, for use elsewhere on the page (escaped by the template then)
    description: str


def _default_format_percent(percent: Decimal) -> str:
    return f"{percent:.2f} %"


def availability_chart(
    bars: Sequence[MonthBar],
    *,
    title: str,
    description: str,
    goal: Decimal = GOAL,
    goal_label: str = "97.0 %",
    floor: Decimal = Decimal("90"),
    format_percent: Callable[[Decimal], str] = _default_format_percent,
) -> Chart:
    """The chart of ``bars`` (in the order given) on a scale from ``floor`` to 100 %."""
    if floor >= 100:
        raise ValueError(f"the floor must be below 100 %, got {floor}")
    render = _Renderer(
        bars=bars,
        title=title,
        description=description,
        goal=goal,
        goal_label=goal_label,
        floor=floor,
        format_percent=format_percent,
    )
    # Render once with a fixed id to hash the content, then again with the id from that hash:
    # the formatted figures are part of the content, which a hash of the inputs could not cover
    # (a formatting function has no stable representation).
    draft = render.svg("availability-chart")
    digest = hashlib.sha256(draft.encode()).hexdigest()[:12]
    return Chart(
        svg=render.svg(f"availability-chart-{digest}"), title=title, description=description
    )


def y_position(percent: Decimal, floor: Decimal) -> Decimal:
    """The y coordinate of ``percent`` on the scale, clamped to the plot (SVG's y grows down)."""
    clamped = min(max(percent, floor), Decimal(100))
    return PLOT_TOP + PLOT_HEIGHT * (Decimal(100) - clamped) / (Decimal(100) - floor)


def number(value: Decimal) -> str:
    """A coordinate with at most two decimals and no exponent ("12.5", not "12.50" or "1E+1")."""
    text = f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attributes(attributes: dict[str, str]) -> str:
    return "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attributes.items())


def _element(name: str, attributes: dict[str, str], content: str | None = None) -> str:
    """An element; ``content`` must already be markup (escape text with ``escape`` first)."""
    if content is None:
        return f"<{name}{_attributes(attributes)}/>"
    return f"<{name}{_attributes(attributes)}>{content}</{name}>"


@dataclass(frozen=True)
class _Renderer:
    bars: Sequence[MonthBar]
    title: str
    description: str
    goal: Decimal
    goal_label: str
    floor: Decimal
    format_percent: Callable[[Decimal], str]

    def svg(self, chart_id: str) -> str:
        hatch_id = f"{chart_id}-hatch"
        root = {
            "xmlns": SVG_NAMESPACE,
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "viewBox": f"0 0 {number(WIDTH)} {number(HEIGHT)}",
            "width": "100%",
            "font-family": "system-ui, sans-serif",
            "font-size": str(FONT_SIZE),
            "fill": TEXT_COLOUR,
            "class": "availability-chart",
        }
        children = [
            # The accessible name and description come first, as SVG and ARIA expect.
            _element("title", {"id": f"{chart_id}-title"}, escape(self.title)),
            _element("desc", {"id": f"{chart_id}-desc"}, escape(self.description)),
            _element("defs", {}, self._hatch_pattern(hatch_id)),
            *self._axis(),
            *self._months(hatch_id),
            *self._goal_line(),
        ]
        return _element("svg", root, "\n" + "\n".join(children) + "\n")

    def _hatch_pattern(self, hatch_id: str) -> str:
        # Diagonal white stripes over the below-goal colour: visible without colour vision.
        background = _element("rect", {"width": "6", "height": "6", "fill": BELOW_GOAL_COLOUR})
        stripe = _element(
            "line",
            {"x1": "0", "y1": "0", "x2": "0", "y2": "6", "stroke": "#ffffff", "stroke-width": "2"},
        )
        return _element(
            "pattern",
            {
                "id": hatch_id,
                "width": "6",
                "height": "6",
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
            background + stripe,
        )

    def _ticks(self) -> list[Decimal]:
        return [self.floor, (self.floor + Decimal(100)) / 2, Decimal(100)]

    def _tick_label(self, tick: Decimal) -> str:
        # A whole number needs no decimal separator, so it reads the same in every language;
        # anything else goes through the caller's (localized) formatting.
        if tick == tick.to_integral_value():
            return f"{int(tick)} %"
        return self.format_percent(tick)

    def _axis(self) -> Iterator[str]:
        right = PLOT_LEFT + PLOT_WIDTH
        for tick in self._ticks():
            y = number(y_position(tick, self.floor))
            # The baseline (the floor) is drawn darker: it is where the bars stand.
            colour = TEXT_COLOUR if tick == self.floor else GRID_COLOUR
            yield _element(
                "line",
                {
                    "class": "tick",
                    "x1": number(PLOT_LEFT),
                    "y1": y,
                    "x2": number(right),
                    "y2": y,
                    "stroke": colour,
                    "stroke-width": "1",
                },
            )
            yield _element(
                "text",
                {
                    "class": "tick-label",
                    "x": number(PLOT_LEFT - 6),
                    "y": y,
                    "text-anchor": "end",
                    "dominant-baseline": "middle",
                },
                escape(self._tick_label(tick)),
            )

    def _months(self, hatch_id: str) -> Iterator[str]:
        baseline = y_position(self.floor, self.floor)
        slot = PLOT_WIDTH / max(len(self.bars), 1)
        bar_width = slot * BAR_SHARE
        for index, bar in enumerate(self.bars):
            centre = PLOT_LEFT + slot * index + slot / 2
            parts = [
                _element(
                    "text",
                    {
                        "class": "month-label",
                        "x": number(centre),
                        "y": number(baseline + 18),
                        "text-anchor": "middle",
                    },
                    escape(bar.label),
                )
            ]
            if bar.percent is None:
                parts.append(
                    _element(
                        "text",
                        {
                            "class": "gap",
                            "x": number(centre),
                            "y": number(baseline - 6),
                            "text-anchor": "middle",
                        },
                        _element("title", {}, escape(f"{bar.label}: {GAP_LABEL}")) + GAP_LABEL,
                    )
                )
            else:
                parts.extend(self._bar(bar, bar.percent, centre, bar_width, baseline, hatch_id))
            yield _element(
                "g", {"class": "month", "data-month": bar.month.isoformat()}, "".join(parts)
            )

    def _bar(
        self,
        bar: MonthBar,
        percent: Decimal,
        centre: Decimal,
        bar_width: Decimal,
        baseline: Decimal,
        hatch_id: str,
    ) -> list[str]:
        below_goal = percent < self.goal
        # Below the floor the bar stops at the floor (plus a stub); the label keeps the truth.
        top = min(y_position(percent, self.floor), baseline - MIN_BAR_HEIGHT)
        value = self.format_percent(percent)
        label = f"{BELOW_GOAL_MARKER} {value}" if below_goal else value
        rect = _element(
            "rect",
            {
                "class": "bar below-goal" if below_goal else "bar",
                "x": number(centre - bar_width / 2),
                "y": number(top),
                "width": number(bar_width),
                "height": number(baseline - top),
                "fill": f"url(#{hatch_id})" if below_goal else GOAL_MET_COLOUR,
                # The outline keeps the hatched bar's edge as solid as the others.
                "stroke": BELOW_GOAL_COLOUR if below_goal else GOAL_MET_COLOUR,
                "stroke-width": "1",
            },
            _element("title", {}, escape(f"{bar.label}: {value}")),
        )
        text = _element(
            "text",
            {
                "class": "value below-goal" if below_goal else "value",
                "x": number(centre),
                "y": number(top - 6),
                "text-anchor": "middle",
            },
            escape(label),
        )
        return [rect, text]

    def _goal_line(self) -> Iterator[str]:
        y = y_position(self.goal, self.floor)
        right = PLOT_LEFT + PLOT_WIDTH
        # Drawn after the bars so the line stays visible across them.
        yield _element(
            "line",
            {
                "class": "goal",
                "x1": number(PLOT_LEFT),
                "y1": number(y),
                "x2": number(right),
                "y2": number(y),
                "stroke": TEXT_COLOUR,
                "stroke-width": "1.5",
                "stroke-dasharray": "6 4",
            },
        )
        yield _element(
            "text",
            {
                "class": "goal-label",
                "x": number(right + 6),
                "y": number(y),
                "dominant-baseline": "middle",
            },
            escape(self.goal_label),
        )
