"""Message pages. They all work without JavaScript (forms and reloads); the page script only
adds live updates and sends over the socket."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from treffpunkt.accounts.models import Organization, User
from treffpunkt.accounts.permissions import (
    login_required,
    member_required,
    org_admin_required,
    team_required,
)
from treffpunkt.accounts.selectors import team_for
from treffpunkt.core.actions import run_action
from treffpunkt.core.errors import DomainError
from treffpunkt.messaging import files, selectors, services
from treffpunkt.messaging.forms import (
    AssignForm,
    DigestForm,
    InquiryForm,
    MessageForm,
    RetentionForm,
    TopicForm,
)
from treffpunkt.messaging.models import Attachment, Conversation, InquiryTopic, StaffDigest

PAGE_SIZE = 25
INBOX_VIEWS: dict[str, selectors.InboxFilter] = {
    "offen": "open",
    "ohne-zuweisung": "unassigned",
    "meine": "mine",
    "geschlossen": "closed",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _conversation_or_404(request: HttpRequest, conversation_id: int) -> Conversation:
    try:
        return selectors.conversation_for(_user(request), conversation_id)
    except selectors.ConversationNotFound as exc:
        raise Http404 from exc


# --- members -------------------------------------------------------------------------------


@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_team:
        return redirect("messaging:inbox")
    if not user.is_member:
        raise PermissionDenied  # operators have no conversations
    page = Paginator(selectors.member_conversations(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "messaging/list.html",
        {"page": page, "can_start": selectors.offered_topics(user.organization).exists()},
    )


@member_required
@require_http_methods(["GET", "POST"])
def new_inquiry(request: HttpRequest) -> HttpResponse:
    member = _user(request)
    topics = selectors.offered_topics(member.organization)
    form = InquiryForm(request.POST or None, request.FILES or None, topics=topics)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.start_inquiry(
                member=member,
                topic=form.cleaned_data["topic"],
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["attachments"],
            )
        except DomainError as exc:
            _error_on_form(form, exc)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect(conversation.get_absolute_url())
    return render(
        request,
        "messaging/new.html",
        {"form": form, "has_topics": topics.exists()},
        status=400 if form.errors else 200,
    )


def _error_on_form(form: MessageForm, exc: DomainError) -> None:
    """The service's refusal next to the field it is about (above the form otherwise)."""
    field: str | None = None
    if exc.code.startswith("file") or exc.code == "too_many_files":
        field = "attachments"
    elif exc.code == "too_long":
        field = "text"
    form.add_error(field, str(exc.message))


# --- one conversation ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user = _user(request)
    conversation = _conversation_or_404(request, conversation_id)
    form = MessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                posted = services.post_message(
                    author=user,
                    conversation=conversation,
                    text=form.cleaned_data["text"],
                    uploads=form.cleaned_data["attachments"],
                )
            except DomainError as exc:
                _error_on_form(form, exc)
            else:
                return redirect(f"{conversation.get_absolute_url()}#nachricht-{posted.message.pk}")
    else:
        services.mark_read(user=user, conversation=conversation)
    return render(
        request,
        "messaging/conversation.html",
        _conversation_context(user, conversation, form),
        status=400 if form.errors else 200,
    )


def _conversation_context(
    user: User, conversation: Conversation, form: MessageForm
) -> dict[str, Any]:
    side = selectors.side_of(user)
    if side is None:  # an operator: never a participant (conversation_for found nothing)
        raise Http404
    context: dict[str, Any] = {
        "conversation": conversation,
        "messages_list": list(selectors.messages_of(conversation)),
        "form": form,
        "side": side,
        "read_by_other_side": selectors.read_by_other_side(conversation, side),
        # For json_script: the dict itself (a JSON string would arrive encoded twice).
        "page_data": {
            "conversation": conversation.pk,
            "user": user.pk,
            "side": side,
            "time_zone": user.time_zone or settings.TIME_ZONE,
            # The number of the newest event as of the conversation's read, before the
            # messages: whatever comes after reaches the page live or by a sync.
            "seq": conversation.event_seq,
            "strings": _page_strings(),
        },
    }
    if user.is_team:
        context["assign_form"] = AssignForm(
            initial={"staff": conversation.assigned_to_id}, team=team_for(user)
        )
    return context


def _page_strings() -> dict[str, str]:
    return {
        "you": _("You"),
        "read": _("Read"),
        "offline": _(
            "Connection lost. New messages appear after reconnecting; you can also reload the page."
        ),
        "online": _("Connected. New messages appear here by themselves."),
        "nobody": _("Nobody yet"),
        "new_message": _("New message from %(name)s"),
        "failed": _("Your message could not be sent."),
    }


@team_required
@require_POST
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user = _user(request)
    conversation = _conversation_or_404(request, conversation_id)  # another org's: not found
    form = AssignForm(request.POST, team=team_for(user))
    if not form.is_valid():
        messages.error(request, _("Please choose someone from your organization's team."))
        return redirect(conversation.get_absolute_url())
    staff = user if request.POST.get("to_me") else form.cleaned_data["staff"]
    return run_action(
        request,
        lambda: services.assign(actor=user, conversation=conversation, staff=staff),
        success=_("The assignment was saved."),
        back_to=conversation.get_absolute_url(),
    )


@team_required
@require_POST
def close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id)
    return run_action(
        request,
        lambda: services.close(actor=_user(request), conversation=conversation),
        success=_("The conversation was closed."),
        back_to=conversation.get_absolute_url(),
    )


@team_required
@require_POST
def reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(request, conversation_id)
    return run_action(
        request,
        lambda: services.reopen(actor=_user(request), conversation=conversation),
        success=_("The conversation was opened again."),
        back_to=conversation.get_absolute_url(),
    )


@login_required
def attachment(request: HttpRequest, conversation_id: int, attachment_id: int) -> FileResponse:
    conversation = _conversation_or_404(request, conversation_id)
    item = Attachment.objects.filter(pk=attachment_id, message__conversation=conversation).first()
    if item is None:
        raise Http404
    try:
        handle = files.open_stored(item.stored_name)  # FileResponse closes it
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=item.file_name, content_type=item.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- the team's inbox --------------------------------------------------------------------


@team_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    view = request.GET.get("ansicht", "offen")
    if view not in INBOX_VIEWS:
        view = "offen"
    page = Paginator(selectors.inbox(user, INBOX_VIEWS[view]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    digest = StaffDigest.objects.filter(user=user).first()
    return render(
        request,
        "messaging/inbox.html",
        {
            "page": page,
            "query": f"ansicht={view}",
            "view": view,
            "views": [
                ("offen", _("Open")),
                ("ohne-zuweisung", _("Unassigned")),
                ("meine", _("Mine")),
                ("geschlossen", _("Closed")),
            ],
            "digest_form": DigestForm(
                initial={"enabled": bool(digest and digest.enabled)},
                window_minutes=settings.MESSAGE_NOTICE_WINDOW_MINUTES,
            ),
        },
    )


@team_required
@require_POST
def digest(request: HttpRequest) -> HttpResponse:
    form = DigestForm(request.POST, window_minutes=settings.MESSAGE_NOTICE_WINDOW_MINUTES)
    enabled = form.is_valid() and form.cleaned_data["enabled"]
    services.set_digest(user=_user(request), enabled=enabled)
    messages.success(
        request,
        _("You will get a digest of new messages by e-mail.")
        if enabled
        else _("You will get no digest of new messages."),
    )
    return redirect("messaging:inbox")


# --- the org admin's setup --------------------------------------------------------------------


def _organization(user: User) -> Organization:
    return cast(Organization, user.organization)


@org_admin_required
@require_http_methods(["GET", "POST"])
def topics(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    organization = _organization(admin)
    topic_form = TopicForm(request.POST if "add_topic" in request.POST else None)
    policy = selectors.policy_for(organization)
    retention_form = RetentionForm(
        request.POST if "save_retention" in request.POST else None, instance=policy
    )
    if request.method == "POST":
        try:
            if "add_topic" in request.POST and topic_form.is_valid():
                services.add_topic(admin=admin, **topic_form.cleaned_data)
                messages.success(request, _("The topic was added."))
                return redirect("messaging:topics")
            if "save_retention" in request.POST and retention_form.is_valid():
                services.set_retention(
                    admin=admin, months=retention_form.cleaned_data["retention_months"]
                )
                messages.success(request, _("The retention time was saved."))
                return redirect("messaging:topics")
        except DomainError as exc:
            messages.error(request, str(exc.message))
    return render(
        request,
        "messaging/topics.html",
        {
            "topics": InquiryTopic.objects.filter(organization=organization),
            "topic_form": topic_form,
            "retention_form": retention_form,
        },
        status=400 if topic_form.errors or retention_form.errors else 200,
    )


@org_admin_required
@require_POST
def edit_topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    admin = _user(request)
    topic = InquiryTopic.objects.filter(pk=topic_id, organization=admin.organization).first()
    if topic is None:
        raise Http404
    form = TopicForm(request.POST, instance=InquiryTopic.objects.get(pk=topic.pk))
    if form.is_valid():
        try:
            services.change_topic(admin=admin, topic=topic, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The topic was saved."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("messaging:topics")
