"""Webhooks in the back office (operations): endpoints with their recent deliveries, and the
actions disable, enable, rotate the secret, send a test event and replay. A secret is shown
once, on the page that answers its creation or rotation (never stored in a message or the
session), and never again."""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.webhooks import addresses, services
from apps.webhooks.catalog import ALL, EVENT_TYPES
from apps.webhooks.errors import UrlRefused
from apps.webhooks.models import Attempt, Delivery, Endpoint

RECENT = 20  # deliveries shown on an endpoint's page


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(ALL, "* every event")]
        + [(name, f"{name}: {text}") for name, text in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Endpoint
        fields = ("url", "description", "event_types")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            addresses.check_url(url)
        except UrlRefused as exc:
            raise forms.ValidationError(exc.message) from exc
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = (
        "url",
        "description",
        "status",
        "subscribed",
        "consecutive_failures",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("url", "description", "=id")
    readonly_fields = (
        "id",
        "status",
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "failing_since",
        "created_at",
        "created_by",
        "recent_deliveries",
    )
    actions = ("disable_endpoints", "enable_endpoints", "rotate_secret", "send_test_event")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ("url", "description", "event_types")
        return editable + self.readonly_fields if obj is not None else editable

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disable instead: deliveries and attempts stay as the record

    @admin.display(description="events")
    def subscribed(self, obj: Endpoint) -> str:
        if not obj.event_types or ALL in obj.event_types:
            return "all"
        return ", ".join(obj.event_types)

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, obj: Endpoint) -> str:
        rows = obj.deliveries.order_by("-created_at")[:RECENT]
        listing = format_html_join(
            "",
            '<li><a href="{}">{}</a> {} · {} · {} attempt(s) · {}</li>',
            (
                (
                    reverse("admin:webhooks_delivery_change", args=[d.pk]),
                    d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    d.event_type,
                    d.status,
                    d.attempts,
                    d.last_error or d.last_status_code or "",
                )
                for d in rows
            ),
        )
        all_url = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<ul>{}</ul><a href="{}">All deliveries</a>', listing, all_url)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.endpoint_update(
                endpoint_id=obj.pk,
                url=data["url"],
                description=data["description"],
                event_types=data["event_types"],
            )
            return
        created = services.endpoint_create(
            url=data["url"],
            description=data["description"],
            event_types=data["event_types"],
            created_by_id=request.user.pk,
        )
        obj.pk = created.endpoint.id
        obj._state.adding = False
        request._webhook_secret = created.secret  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: Endpoint, post_url_continue: Any = None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, [(obj, secret)], "Endpoint created")

    def _secret_page(
        self, request: HttpRequest, shown: list[tuple[Any, str]], title: str
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "shown": [
                (endpoint, secret, reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
                for endpoint, secret in shown
            ],
        }
        response = TemplateResponse(request, "admin/webhooks/secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Disable (stop sending)", permissions=["change"])
    def disable_endpoints(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        who = getattr(request.user, "email", "") or str(request.user.pk)
        for pk in queryset.values_list("pk", flat=True):
            services.endpoint_disable(endpoint_id=pk, reason=f"disabled by {who}")
        self.message_user(request, "Disabled; their undelivered events wait.")

    @admin.action(description="Enable (send what waits)", permissions=["change"])
    def enable_endpoints(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            services.endpoint_enable(endpoint_id=pk)
        self.message_user(request, "Enabled; their waiting deliveries are being sent.")

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> HttpResponse:
        shown = []
        for endpoint in queryset.order_by("pk"):
            rotated = services.endpoint_secret_rotate(endpoint_id=endpoint.pk)
            shown.append((endpoint, rotated.secret))
        return self._secret_page(request, shown, "Secret rotated")

    @admin.action(description="Send a test event (webhooks.ping)", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            try:
                services.endpoint_ping(endpoint_id=endpoint.pk)
            except DomainError as exc:
                self.message_user(request, f"{endpoint.url}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{endpoint.url}: test event sent.")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "succeeded", "status_code", "error", "duration_ms", "response_body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
    )
    list_filter = ("status", "event_type")
    search_fields = ("=event_id", "=id", "endpoint__url")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "endpoint",
        "event_id",
        "event_type",
        "event_created_at",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "replay_of",
        "created_at",
        "delivered_at",
    )
    inlines = (AttemptInline,)
    actions = ("replay",)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description="Replay (send the event again)", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        sent = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_replay(delivery_id=delivery.pk)
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, f"{sent} replay(s) queued.")


auditlog.register(Endpoint, exclude_fields=["consecutive_failures", "failing_since", "updated_at"])
