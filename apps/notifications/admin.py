from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path

from apps.core.admin import ReadOnlyAdmin
from apps.notifications.catalog import KINDS
from apps.notifications.models import Delivery, DeliveryAttempt, Notification, PushDevice
from apps.notifications.rendering import render

# Sample values so staff can read every template as a customer would get it.
SAMPLE = {
    "name": "Ada Lovelace",
    "amount": "1,250.00 EUR",
    "fee": "0.00 EUR",
    "sender": "Bob Example",
    "recipient": "Bob Example",
    "note": "rent",
    "device": "FinstackApp/1.0 (iPhone)",
    "ip": "203.0.113.9",
    "how": "change",
    "change": "totp_added",
    "turned_on": True,
    "level": 2,
    "raised": True,
}


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "status", "error", "provider_message_id", "at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "channel", "address", "status", "attempts", "last_error")
    list_filter = ("status", "channel", "kind")
    search_fields = ("address", "=user__id", "provider_message_id", "=event_id")
    date_hierarchy = "created_at"
    inlines = (AttemptInline,)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.templates_view)
        extra = [path("templates/", view, name="notifications_templates")]
        return extra + super().get_urls()

    def templates_view(self, request: HttpRequest) -> TemplateResponse:
        """Every message kind as rendered in each language, with sample values."""
        previews = [
            {
                "kind": kind,
                "spec": spec,
                "languages": [(code, render(kind, code, SAMPLE)) for code, _ in settings.LANGUAGES],
            }
            for kind, spec in KINDS.items()
            if kind not in ("account_mail", "phone_code")
        ]
        context = {
            **self.admin_site.each_context(request),
            "previews": previews,
            "title": "Message templates",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/notifications/templates.html", context)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind", "category")
    search_fields = ("user__email", "title")


@admin.register(PushDevice)
class PushDeviceAdmin(ReadOnlyAdmin):
    list_display = ("user", "platform", "active", "created_at", "last_registered_at")
    list_filter = ("platform", "active")
    search_fields = ("user__email",)
