"""Placeholder: replaced by the real pages."""

from django.http import Http404
from django.views import View


class DeadlinesPage(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CataloguePage(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class ProductCreate(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class PriceCreate(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class OrderList(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class OrderCreate(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class OrderDetail(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class AcceptOrder(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class DeclineOrder(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class ContractList(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class ContractDetail(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class RecordCancellation(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class RecordConsent(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class AnnounceChange(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class AnnounceTransfer(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class RecordObjection(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerServicePage(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class BlockService(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class LiftBlock(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404
