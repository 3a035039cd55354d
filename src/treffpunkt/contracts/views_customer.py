"""Placeholder: replaced by the real pages."""

from django.http import Http404
from django.views import View


class CustomerContracts(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerContractDetail(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerCancel(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerConsent(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerOrderPage(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerDocuments(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404


class CustomerDocumentDownload(View):
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Http404
