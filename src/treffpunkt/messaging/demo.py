"""Messages demo data: three topics for questions, a conversation in which the demo member has
two unread answers, and an unanswered question from the second member in the team's inbox.
Idempotent like the rest of the demo."""

from __future__ import annotations

from django.conf import settings

from treffpunkt.accounts.demo import demo_organization, demo_people
from treffpunkt.messaging import services
from treffpunkt.messaging.models import Conversation, InquiryTopic

TOPICS = ("Leistungen und Anträge", "Beiträge und Zahlungen", "Mitgliedschaft")


def load_messaging_demo() -> None:
    organization = demo_organization()
    people = demo_people()
    admin = people["admin@kasse-nord.example.org"]
    for name in TOPICS:
        if not InquiryTopic.objects.filter(organization=organization, name=name).exists():
            services.add_topic(admin=admin, name=name)
    topics = {topic.name: topic for topic in InquiryTopic.objects.filter(organization=organization)}
    mia = people["mitglied1@example.org"]
    max_ = people["mitglied2@example.org"]
    bernd = people["berater1@kasse-nord.example.org"]
    if not Conversation.objects.filter(member=mia, topic__isnull=False).exists():
        conversation = services.start_inquiry(
            member=mia,
            topic=topics["Leistungen und Anträge"],
            text="Guten Tag, ich möchte eine Haushaltshilfe beantragen. "
            "Welche Unterlagen brauche ich dafür?",
        )
        for answer in (
            "Guten Tag Frau Mitglied, dafür brauchen wir eine ärztliche Bescheinigung.",
            "Das Formular finden Sie auch in Ihrem Postfach – schicken Sie es gern hier als "
            "PDF oder Foto zurück.",
        ):
            services.post_message(author=bernd, conversation=conversation, text=answer)
    if not Conversation.objects.filter(member=max_, topic__isnull=False).exists():
        services.start_inquiry(
            member=max_,
            topic=topics["Beiträge und Zahlungen"],
            text="Hallo, mein Beitrag wurde diesen Monat doppelt abgebucht. Was kann ich tun?",
        )


def describe_messaging_demo() -> list[str]:
    site = settings.SITE_URL
    return [
        f"Messages demo: mitglied1@example.org has unread answers under {site}/nachrichten/; "
        f"the team's inbox is {site}/nachrichten/posteingang/ (a question from mitglied2 waits)."
    ]
