from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "treffpunkt.core"
    label = "core"
    verbose_name = "Core"
