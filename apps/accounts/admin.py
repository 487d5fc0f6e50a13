from datetime import timedelta
from typing import Any

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import ApiKey, User
from apps.core.errors import DomainError
from apps.core.machine import SCOPES
from apps.core.users import request_user_id


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "closed_at")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "first_name", "last_name", "phone")
    readonly_fields = ("last_login", "date_joined", "closed_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profile",
            {"fields": ("first_name", "last_name", "default_currency", "language", "phone")},
        ),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Important dates", {"fields": ("last_login", "date_joined", "closed_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


# Staff changes are logged with who, when and before/after (viewable by superusers).
auditlog.register(User, exclude_fields=["password", "last_login"])
auditlog.register(Group)
auditlog.register(ApiKey, exclude_fields=["key_hash", "last_used_at", "last_used_ip"])
auditlog.register(User.groups.through)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=sorted(SCOPES.items()), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("name", "namespace", "scopes", "rate", "expires_at")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and not self.errors:
            try:
                services.api_key_terms_check(
                    namespace=data["namespace"], scopes=list(data["scopes"]), rate=data["rate"]
                )
            except DomainError as error:
                raise ValidationError(f"{error.message} {error.details}") from error
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Operations issue keys here: the whole key is shown once, in the message after saving.
    A key is never edited: revoke it, or roll it (a successor, the old one valid a while)."""

    form = ApiKeyForm
    list_display = ("name", "prefix", "namespace", "scope_list", "state", "last_used_at")
    list_filter = ("namespace",)
    search_fields = ("name", "prefix", "namespace")
    readonly_fields = (
        "prefix",
        "created_by",
        "created_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
        "last_used_ip",
    )
    actions = ("revoke", "roll")

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="state")
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at:
            return "revoked"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "expired"
        return f"valid until {obj.expires_at:%Y-%m-%d %H:%M}" if obj.expires_at else "valid"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "name", "namespace", "scopes", "rate", "expires_at")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return  # keys are not edited
        data = form.cleaned_data
        issued = services.api_key_create(
            name=data["name"],
            namespace=data["namespace"],
            scopes=list(data["scopes"]),
            rate=data["rate"],
            expires_at=data.get("expires_at"),
            created_by_id=request_user_id(request),
        )
        obj.pk = issued.key_id
        self._show_once(request, issued)

    def response_add(self, request: HttpRequest, obj: ApiKey, *args: Any) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:accounts_apikey_change", args=[obj.pk]))

    @staticmethod
    def _show_once(request: HttpRequest, issued: services.ApiKeyIssued) -> None:
        messages.warning(
            request,
            f"API key {issued.prefix}: {issued.key} — copy it now, it is not shown again.",
        )

    @admin.action(description="Revoke the selected keys now", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key_id in queryset.values_list("pk", flat=True):
            services.api_key_revoke(key_id=key_id, revoked_by_id=request_user_id(request))
        messages.success(request, f"Revoked {queryset.count()} key(s).")

    @admin.action(description="Roll: new key, old one valid 24 hours more", permissions=["change"])
    def roll(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key_id in queryset.values_list("pk", flat=True):
            try:
                issued = services.api_key_roll(
                    key_id=key_id,
                    rolled_by_id=request_user_id(request),
                    overlap=timedelta(hours=24),
                )
            except DomainError as error:
                messages.error(request, error.message)
                continue
            self._show_once(request, issued)
