"""The back office's two page patterns, for every app that shows its records to operators (or
to a business customer's contacts): a list and a detail page, inside the area's shell.

A list page declares its columns once; the same declaration makes the HTML table and the CSV
export. Filters are a django-filter ``FilterSet``; sorting takes only the columns that declare
a sort key; pages hold 50 rows; ``?format=csv`` exports every filtered row in the chosen order::

    @method_decorator(capability_required(Capability.BILLING), name="dispatch")
    class InvoiceList(ListPage[Invoice]):
        title = _("Invoices")
        filterset_class = InvoiceFilter
        default_sort = "-number"
        csv_filename = "rechnungen"
        columns = (
            Column(_("Number"), lambda i: i.number, "number", href=invoice_url),
            Column(_("Customer"), lambda i: i.customer.name, "customer",
                   order_by=("customer__name",)),
            Column(_("Total"), lambda i: i.total),
        )

        def get_queryset(self) -> QuerySet[Invoice]:
            return Invoice.objects.select_related("customer")

A detail page is a title, a definition list of facts and, if wanted, one related table::

    @method_decorator(capability_required(Capability.BILLING), name="dispatch")
    class InvoiceDetail(DetailPage[Invoice]):
        list_url_name = "billing:invoices"

        def get_object(self) -> Invoice:
            return get_object_or_404(Invoice, pk=self.kwargs["pk"])

        def get_record_title(self, invoice: Invoice) -> str:
            return _("Invoice %(number)s") % {"number": invoice.number}

        def get_facts(self, invoice: Invoice) -> list[Fact]:
            return [Fact(_("Customer"), invoice.customer.name), Fact(_("Total"), invoice.total)]

Value functions run once per row: what they read must come with the queryset
(``select_related``/``prefetch_related``), or every row costs a query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from django import forms
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import F
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from treffpunkt.backoffice.csv_export import CsvExport
from treffpunkt.backoffice.navigation import sections_for
from treffpunkt.core.errors import DomainError
from treffpunkt.core.registries import Area

M = TypeVar("M", bound=models.Model)

Label = str | Promise

PAGE_SIZE = 50
# Ids of the filter form's fields: "filter-code" rather than Django's "id_code", so that a form
# on the same page (there is one in the footer) can never share an id with it.
FILTER_FIELD_IDS = "filter-%s"


# --- how values read --------------------------------------------------------------------------


def as_text(value: object) -> str:
    """A value as a person reads it in the active language and time zone."""
    if value is None or (isinstance(value, str | Mapping | list | tuple) and not value):
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        # Seconds too: the log's order within a minute matters to whoever reads it.
        return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M:%S}"
    if isinstance(value, date):
        return str(formats.date_format(value, "SHORT_DATE_FORMAT"))
    if isinstance(value, Decimal | float):
        return str(formats.number_format(value, use_l10n=True))
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {as_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(as_text(item) for item in value)
    return str(value)


# --- the shell --------------------------------------------------------------------------------


class ShellMixin(ContextMixin):
    """A page inside the back office (or the customer area, with ``area = Area.CUSTOMER``): the
    site's header and footer, the area's own navigation from the registry beside the content
    (above it on narrow screens)."""

    request: HttpRequest

    area: ClassVar[str] = Area.BACKOFFICE
    # The name of the area's navigation for assistive technology.
    shell_label: ClassVar[Label] = gettext_lazy("Back office")
    # The URL name of the navigation entry this page belongs to, when it has none of its own
    # (a detail page names its list): that entry is marked as the reader's place.
    part_of: ClassVar[str] = ""
    title: ClassVar[Label] = ""

    def get_title(self) -> Label:
        return self.title

    def place_in_navigation(self) -> str:
        return self.part_of

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("title", self.get_title())
        context["shell_label"] = self.shell_label
        context["shell_nav"] = sections_for(
            self.request, self.area, part_of=self.place_in_navigation()
        )
        return context


class ShellPage(ShellMixin, TemplateView):
    """A page of the shell that shows its template (a start page)."""


# --- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column(Generic[M]):
    """One column of a list, for the page and the CSV file alike.

    ``sort`` is the column's key in ``?sort=`` (``-`` in front sorts descending); a column
    without one cannot be sorted. ``order_by`` names the model fields it sorts by, when they
    are not the key itself (keys stay short and do not show the database's field paths).
    """

    label: Label
    value: Callable[[M], object]
    sort: str | None = None
    order_by: tuple[str, ...] = ()
    # Where the cell links to (usually the row's detail page).
    href: Callable[[M], str] | None = None
    # A narrow column in smaller, monospaced type: codes and ids for those who know them.
    code: bool = False
    html: bool = True
    csv: bool = True

    @property
    def fields(self) -> tuple[str, ...]:
        if self.order_by:
            return self.order_by
        return (self.sort,) if self.sort else ()


@dataclass(frozen=True)
class Header:
    label: Label
    code: bool = False
    href: str = ""  # the link that sorts by this column
    aria_sort: str = ""  # "ascending" or "descending" on the column the rows are sorted by
    mark: str = ""  # ▲ or ▼, hidden from assistive technology (aria-sort says it)
    hint: str = ""  # what the link does, for screen readers


@dataclass(frozen=True)
class Cell:
    text: str
    href: str = ""
    code: bool = False


@dataclass(frozen=True)
class Table:
    caption: Label
    headers: list[Header]
    rows: list[list[Cell]]
    empty: Label


def cells(columns: Sequence[Column[M]], obj: M) -> list[Cell]:
    return [
        Cell(
            text=as_text(column.value(obj)),
            href=column.href(obj) if column.href else "",
            code=column.code,
        )
        for column in columns
    ]


@dataclass(frozen=True)
class PageLink:
    label: str
    href: str = ""  # empty for the gap ("…") between page numbers
    current: bool = False
    text: str = ""


# --- the list ---------------------------------------------------------------------------------


class ListPage(ShellMixin, TemplateResponseMixin, View, Generic[M]):
    """A filtered, sorted, paged table of one kind of record, with its CSV export."""

    template_name = "backoffice/list_page.html"
    columns: ClassVar[Sequence[Column[Any]]] = ()
    filterset_class: ClassVar[type[Any] | None] = None
    # The order without ?sort= (and for an unknown key): a column's key, "-" for descending.
    default_sort: ClassVar[str] = ""
    paginate_by: ClassVar[int] = PAGE_SIZE
    # The file name of the export, without the date and ".csv".
    csv_filename: ClassVar[str] = "export"
    caption: ClassVar[Label] = ""  # the table's caption; the title when empty
    empty_text: ClassVar[Label] = gettext_lazy("Nothing matches.")
    query: QueryDict

    def get_queryset(self) -> models.QuerySet[M]:
        """Every row this list can show, before filtering and sorting."""
        raise NotImplementedError

    # --- the request --------------------------------------------------------------------------

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        filterset = self.get_filterset(request)
        rows = filterset.qs if filterset is not None else self.get_queryset()
        column, descending = self.current_sort(request)
        rows = self.sorted(rows, column, descending=descending)
        # The parameters every link of the page carries on: the filters and a valid order.
        self.query = request.GET.copy()
        self.query.pop("format", None)
        if self.parse_sort(self.query.get("sort", ""))[0] is None:
            self.query.pop("sort", None)
        if request.GET.get("format") == "csv":
            return self.csv_response(request, rows)
        # An invalid or too high page number shows the last page (the list may have shrunk
        # since the link was made); no 404 for a list that exists.
        page = Paginator(rows, self.paginate_by).get_page(request.GET.get("page"))
        context = self.get_context_data(
            page=page,
            filterset=filterset,
            filter_form=filterset.form if filterset is not None else None,
            table=self.table(request, page, column, descending=descending),
            pages=self.page_links(request, page),
            previous_href=(
                self.href(request, page=page.previous_page_number()) if page.has_previous() else ""
            ),
            next_href=self.href(request, page=page.next_page_number()) if page.has_next() else "",
            sort_value=self.query.get("sort", ""),
            reset_href=request.path,
            csv_href=self.href(request, format="csv", page=None),
        )
        return self.render_to_response(context)

    def get_filterset(self, request: HttpRequest) -> Any:
        if self.filterset_class is None:
            return None
        filterset = self.filterset_class(
            request.GET or None, queryset=self.get_queryset(), request=request
        )
        filterset.form.auto_id = FILTER_FIELD_IDS
        return filterset

    # --- sorting ------------------------------------------------------------------------------

    def sortable(self) -> dict[str, Column[M]]:
        return {column.sort: column for column in self.columns if column.sort}

    def parse_sort(self, raw: str) -> tuple[Column[M] | None, bool]:
        descending = raw.startswith("-")
        return self.sortable().get(raw.removeprefix("-")), descending

    def current_sort(self, request: HttpRequest) -> tuple[Column[M] | None, bool]:
        """The column from ``?sort=``; an unknown key is ignored (the default order applies),
        so that nobody sorts by a field the page does not show."""
        column, descending = self.parse_sort(request.GET.get("sort", ""))
        if column is None:
            column, descending = self.parse_sort(self.default_sort)
        return column, descending

    @staticmethod
    def sorted(
        rows: models.QuerySet[M], column: Column[M] | None, *, descending: bool
    ) -> models.QuerySet[M]:
        if column is None:
            return rows
        # Rows without a value last, either way round, on SQLite and PostgreSQL alike (their
        # defaults differ). The primary key last: rows with equal values keep one order from
        # page to page.
        order = [
            F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
            for field in column.fields
        ]
        return rows.order_by(*order, "-pk" if descending else "pk")

    # --- links --------------------------------------------------------------------------------

    def href(self, request: HttpRequest, **changes: str | int | None) -> str:
        """This list's address with some parameters changed (``None`` removes one)."""
        query = self.query.copy()
        for key, value in changes.items():
            query.pop(key, None)
            if value is not None:
                query[key] = str(value)
        encoded = query.urlencode()
        return f"{request.path}?{encoded}" if encoded else request.path

    def headers(
        self, request: HttpRequest, current: Column[M] | None, *, descending: bool
    ) -> list[Header]:
        headers = []
        for column in self.columns:
            if not column.html:
                continue
            if not column.sort:
                headers.append(Header(column.label, code=column.code))
                continue
            is_current = column is current
            # A click on the sorted column turns its order around; on another one, sorts up.
            next_descending = is_current and not descending
            key = f"-{column.sort}" if next_descending else column.sort
            headers.append(
                Header(
                    column.label,
                    code=column.code,
                    href=self.href(request, sort=key, page=None),
                    aria_sort=("descending" if descending else "ascending") if is_current else "",
                    mark=("▼" if descending else "▲") if is_current else "",
                    hint=_("sort descending") if next_descending else _("sort ascending"),
                )
            )
        return headers

    def table(
        self, request: HttpRequest, page: Page[M], column: Column[M] | None, *, descending: bool
    ) -> Table:
        shown = [c for c in self.columns if c.html]
        return Table(
            caption=self.caption or self.get_title(),
            headers=self.headers(request, column, descending=descending),
            rows=[cells(shown, obj) for obj in page.object_list],
            empty=self.empty_text,
        )

    def page_links(self, request: HttpRequest, page: Page[M]) -> list[PageLink]:
        links = []
        for number in page.paginator.get_elided_page_range(page.number, on_each_side=2):
            if not isinstance(number, int):  # the gap, Paginator.ELLIPSIS
                links.append(PageLink(label="", text=str(number)))
                continue
            current = number == page.number
            label = _("Page %(number)s") % {"number": number}
            if current:
                label = _("Page %(number)s, this page") % {"number": number}
            links.append(
                PageLink(
                    label=label,
                    href=self.href(request, page=number),
                    current=current,
                    text=str(number),
                )
            )
        return links

    # --- CSV ----------------------------------------------------------------------------------

    def csv_response(self, request: HttpRequest, rows: models.QuerySet[M]) -> HttpResponseBase:
        export = CsvExport(
            [column for column in self.columns if column.csv],
            rows,
            language=get_language(),
            zone=timezone.get_current_timezone(),
        )
        # Under ASGI (the server) the rows are read chunk by chunk while they are sent; a plain
        # iterator would make Django read the whole file into memory first. The test client
        # and WSGI take the plain one.
        content: Iterable[str] | Any = (
            export.aiter() if isinstance(request, ASGIRequest) else iter(export)
        )
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_filename}-{stamp}.csv"'
        return response


# --- the detail page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One line of a detail page's definition list. A mapping becomes a nested list of its
    keys and values, a list one item per line; ``block`` keeps the lines of a longer text."""

    label: Label
    value: object
    block: bool = False

    @property
    def text(self) -> str:
        return as_text(self.value)

    @property
    def items(self) -> list[tuple[str, str]] | None:
        if isinstance(self.value, Mapping) and self.value:
            return [(str(key), as_text(item)) for key, item in self.value.items()]
        return None

    @property
    def entries(self) -> list[str] | None:
        if isinstance(self.value, list | tuple) and self.value:
            return [as_text(item) for item in self.value]
        return None


@dataclass(frozen=True)
class Related(Generic[M]):
    """A table of records that belong to the one shown (e.g. an invoice's payments)."""

    caption: Label
    columns: Sequence[Column[M]]
    rows: Iterable[M]
    empty: Label = ""  # what the table says without rows; "None yet." when empty

    def table(self) -> Table:
        shown = [c for c in self.columns if c.html]
        return Table(
            caption=self.caption,
            headers=[Header(c.label, code=c.code) for c in shown],
            rows=[cells(shown, obj) for obj in self.rows],
            empty=self.empty or _("None yet."),
        )


class DetailPage(ShellMixin, TemplateResponseMixin, View, Generic[M]):
    """One record: its title, its facts as a definition list, and optionally one table."""

    template_name = "backoffice/detail_page.html"
    # The list the record belongs to: the link back, and the navigation's mark.
    list_url_name: ClassVar[str] = ""
    back_text: ClassVar[Label] = gettext_lazy("Back to the list")

    def get_object(self) -> M:
        """The record from the URL; ``Http404`` when it does not exist (or not for this
        reader)."""
        raise NotImplementedError

    def get_record_title(self, obj: M) -> Label:
        return str(obj)

    def get_facts(self, obj: M) -> Sequence[Fact]:
        raise NotImplementedError

    def get_related(self, obj: M) -> Related[Any] | None:
        return None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        related = self.get_related(obj)
        context = self.get_context_data(
            object=obj,
            title=self.get_record_title(obj),
            facts=self.get_facts(obj),
            related=related.table() if related is not None else None,
            back_url_name=self.list_url_name,
        )
        return self.render_to_response(context)

    def place_in_navigation(self) -> str:
        # The detail page's place in the navigation is its list's entry.
        return self.part_of or self.list_url_name


# --- form pages -------------------------------------------------------------------------------


def show_refusal(form: forms.Form, exc: DomainError) -> None:
    """A service's refusal at the field its code names, or above the form."""
    field = exc.code if exc.code in form.fields else None
    form.add_error(field, str(exc.message))


class FormPage(ShellMixin, TemplateResponseMixin, View):
    """A page with one form that a service carries out: shown by GET, sent by POST (also from
    the same form on a detail or list page). Subclasses load their record in ``load``, act in
    ``act`` (returning where to go next) and say where "back" leads in ``back``; a refusal
    (``DomainError``) shows the form again with the message, status 400."""

    template_name = "backoffice/form_page.html"
    form_class: ClassVar[type[forms.Form]]
    prefix: ClassVar[str | None] = None
    submit_text: ClassVar[Any] = ""
    intro: ClassVar[Any] = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.load(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def load(self, **kwargs: Any) -> None:
        """Fetch the record the form acts on (``Http404`` when there is none)."""

    def make_form(self, data: Any = None) -> forms.Form:
        kwargs: dict[str, Any] = {}
        if self.prefix is not None:
            kwargs["prefix"] = self.prefix
        return self.form_class(data, **kwargs)

    def act(self, form: forms.Form) -> str:
        """Call the service with the cleaned data, say so, and return where to go next."""
        raise NotImplementedError

    def back(self) -> tuple[str, str]:
        """The page "back" leads to, and its link text."""
        raise NotImplementedError

    def get_intro(self) -> Any:
        return self.intro

    def page(self, form: forms.Form, *, status: int = 200) -> HttpResponse:
        back_url, back_label = self.back()
        context = self.get_context_data(
            form=form,
            submit_text=self.submit_text,
            back_url=back_url,
            back_label=back_label,
            intro=self.get_intro(),
        )
        return self.render_to_response(context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.page(self.make_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                target = self.act(form)
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                return redirect(target)
        return self.page(form, status=400)
