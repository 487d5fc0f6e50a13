from typing import Any
from uuid import UUID

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin, ImportExportModelAdmin

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.core.exports import SafeExportMixin
from apps.core.users import request_user_id
from apps.kyc import services
from apps.kyc.models import (
    Case,
    CaseTransition,
    CustomerTier,
    Document,
    Profile,
    ScreeningHit,
    Tier,
    TierLimit,
    WatchlistEntry,
)
from apps.kyc.reasons import REASONS

REVIEW_PERMISSION = services.REVIEW_PERMISSION
LEGAL_HOLD_PERMISSION = services.LEGAL_HOLD_PERMISSION


class TierLimitInline(admin.TabularInline):
    model = TierLimit
    extra = 0


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "can_withdraw")
    inlines = (TierLimitInline,)


@admin.register(CustomerTier)
# import-export's mixins and django-stubs type model and templates differently.
class CustomerTierAdmin(SafeExportMixin, ExportMixin, admin.ModelAdmin):  # type: ignore[misc]
    list_display = ("user", "tier", "changed_at")
    list_filter = ("tier",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "tier", "changed_at")  # tiers change through reviews only

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "legal_first_name", "legal_last_name", "nationality", "masked_tax_id")
    search_fields = ("user__email", "legal_last_name")
    exclude = ("tax_id",)
    readonly_fields = ("masked_tax_id",)
    actions = ("rescreen",)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    @admin.action(description="Re-screen against the current watch list", permissions=["review"])
    def rescreen(self, request: HttpRequest, queryset: QuerySet) -> None:
        found = 0
        for profile in queryset:
            try:
                found += services.rescreen(user_id=profile.user_id)
            except DomainError as error:
                self.message_user(request, f"{profile.user}: {error.message}", messages.ERROR)
        self.message_user(request, f"{found} new screening hit(s).", messages.SUCCESS)

    @admin.display(description="tax id")
    def masked_tax_id(self, profile: Profile) -> str:
        value = profile.tax_id or ""
        return f"•••• {value[-3:]}" if value else ""


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    can_delete = False
    fields = ("type", "preview", "review", "reason_code", "expires_on", "uploaded_at")
    readonly_fields = fields

    @admin.display(description="file")
    def preview(self, document: Document) -> str:
        if document.purged_at:
            return "purged"
        url = reverse("admin:kyc_case_document", args=[document.case_id, document.pk])
        if document.content_type.startswith("image/"):
            return format_html('<a href="{}"><img src="{}" style="max-height:120px"></a>', url, url)
        return format_html('<a href="{}">open PDF</a>', url)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReviewerInline(admin.TabularInline):
    """Part of the case a reviewer reads: shown to whoever may review, read-only."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION) or super().has_view_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HitInline(ReviewerInline):
    model = ScreeningHit
    fields = ("entry", "score", "found_at", "decision", "note", "decided_by", "decided_at")
    readonly_fields = fields


class TrailInline(ReviewerInline):
    model = CaseTransition
    readonly_fields = (
        "at",
        "from_state",
        "to_state",
        "by",
        "reason_code",
        "customer_message",
        "staff_note",
    )


class DecisionForm(forms.Form):
    reason = forms.ChoiceField(choices=[(k, f"{k}: {v}") for k, v in REASONS.items()])
    note = forms.CharField(widget=forms.Textarea, required=False, help_text="staff only")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=2000, help_text="staff only")


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, max_length=2000, help_text="why (staff only)")


class AgeFilter(admin.SimpleListFilter):
    title, parameter_name = "waiting", "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list:
        return [("1", "over 1 day"), ("3", "over 3 days"), ("7", "over a week")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        days = self.value()
        if not days:
            return queryset
        from datetime import timedelta

        from django.utils import timezone

        return queryset.filter(submitted_at__lte=timezone.now() - timedelta(days=int(days)))


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """The compliance review queue."""

    list_display = (
        "submitted_at",
        "user",
        "target_tier",
        "state",
        "attempts",
        "assigned_to",
        "provider_verdict",
    )
    list_filter = ("state", "target_tier", "assigned_to", AgeFilter)
    search_fields = ("user__email", "=id")
    ordering = ("submitted_at",)
    readonly_fields = (
        "user",
        "profile",
        "target_tier",
        "state",
        "attempts",
        "assigned_to",
        "prepared_by",
        "provider_result",
        "submitted_at",
        "decided_at",
        "expires_at",
        "legal_hold",
    )
    exclude = ()
    inlines = (DocumentInline, HitInline, TrailInline)
    actions = (
        "assign_to_me",
        "approve",
        "reject",
        "request_resubmission",
        "set_legal_hold",
        "lift_legal_hold",
    )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION) or super().has_view_permission(request)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_legal_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(LEGAL_HOLD_PERMISSION)

    @admin.display(description="vendor")
    def provider_verdict(self, case: Case) -> str:
        return case.provider_result.get("result", "")

    @admin.display(description="profile")
    def profile(self, case: Case) -> str:
        p = Profile.objects.filter(user_id=case.user_id).first()
        if p is None:
            return "none"
        return (
            f"{p.legal_first_name} {p.legal_last_name}, born {p.date_of_birth}, "
            f"{p.nationality}; {p.address_line}, {p.postal_code} {p.city}, {p.country}"
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.document_view)
        return [
            path("<uuid:case_id>/documents/<uuid:document_id>/", view, name="kyc_case_document"),
            *super().get_urls(),
        ]

    def document_view(self, request: HttpRequest, case_id: UUID, document_id: UUID):
        """Files are private: served only here, to reviewers, never from a public URL."""
        if not self.has_review_permission(request):
            raise PermissionDenied
        document = get_object_or_404(Document, pk=document_id, case_id=case_id, purged_at=None)
        response = FileResponse(document.file.open("rb"), content_type=document.content_type)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def _each(self, request: HttpRequest, queryset: QuerySet, run: Any) -> None:
        for case in queryset:
            try:
                run(case)
            except DomainError as error:
                self.message_user(request, f"{case.user}: {error.message}", messages.ERROR)

    @admin.action(description="Assign to me (and start the review)", permissions=["review"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.case_assign(case_id=c.pk, staff_id=request_user_id(request)),
        )

    @admin.action(
        description="Approve (the top tier needs a second reviewer)", permissions=["review"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda c: services.case_approve(case_id=c.pk, staff_id=request_user_id(request)),
        )

    def _with_reason(
        self, request, queryset, title, apply, form_class=DecisionForm
    ) -> HttpResponse | None:
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self._each(request, queryset, lambda c: apply(c, form.cleaned_data))
                return None
        else:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": request.POST["action"],
            "checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/kyc/decision.html", context)

    @admin.action(description="Reject for good (with a reason)", permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._with_reason(
            request,
            queryset,
            "Reject",
            lambda c, d: services.case_reject(
                case_id=c.pk,
                staff_id=request_user_id(request),
                reason_code=d["reason"],
                note=d["note"],
            ),
        )

    @admin.action(
        description="Ask for new documents (the pending ones, with a reason)",
        permissions=["review"],
    )
    def request_resubmission(self, request: HttpRequest, queryset: QuerySet):
        def apply(case: Case, data: dict) -> None:
            pending = case.documents.filter(review=Document.Review.PENDING)
            services.case_request_resubmission(
                case_id=case.pk,
                staff_id=request_user_id(request),
                documents={str(d.pk): data["reason"] for d in pending},
                note=data["note"],
            )

        return self._with_reason(request, queryset, "Ask for new documents", apply)

    @admin.action(
        description="Set legal hold (keeps the customer's data from the purge)",
        permissions=["legal_hold"],
    )
    def set_legal_hold(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._with_reason(
            request,
            queryset,
            "Set legal hold",
            lambda c, d: services.legal_hold_set(
                case_id=c.pk, staff_id=request_user_id(request), reason=d["reason"]
            ),
            ReasonForm,
        )

    @admin.action(description="Lift legal hold", permissions=["legal_hold"])
    def lift_legal_hold(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._with_reason(
            request,
            queryset,
            "Lift legal hold",
            lambda c, d: services.legal_hold_lift(
                case_id=c.pk, staff_id=request_user_id(request), reason=d["reason"]
            ),
            ReasonForm,
        )


@admin.register(ScreeningHit)
class ScreeningHitAdmin(ReadOnlyAdmin):
    """Watch-list hits, each decided on its own: true match or false positive, with a note."""

    list_display = ("found_at", "user", "entry", "score", "decision", "decided_by", "decided_at")
    list_filter = ("decision", "entry__list_name")
    search_fields = ("user__email", "entry__name")
    ordering = ("decision", "-found_at")
    readonly_fields = (
        "user",
        "case",
        "entry",
        "score",
        "found_at",
        "decision",
        "note",
        "decided_by",
        "decided_at",
    )
    exclude = ("entry_fingerprint",)
    actions = ("decide_true_match", "decide_false_positive")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION) or super().has_view_permission(request)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def _decide(self, request: HttpRequest, queryset: QuerySet, decision: str, title: str):
        hits = list(queryset)
        if len(hits) != 1:
            self.message_user(
                request, "Select one hit: each is decided on its own.", messages.ERROR
            )
            return None
        hit = hits[0]
        form = NoteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                services.hit_decide(
                    hit_id=hit.pk,
                    staff_id=request_user_id(request),
                    decision=decision,
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                self.message_user(request, f"{hit}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{hit.user}: {title.lower()}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "hit": hit,
            "action": request.POST["action"],
            "checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/kyc/hit_decision.html", context)

    @admin.action(description="Decide: true match (ends approvals, tier 0)", permissions=["review"])
    def decide_true_match(self, request: HttpRequest, queryset: QuerySet):
        return self._decide(request, queryset, ScreeningHit.Decision.TRUE_MATCH, "True match")

    @admin.action(description="Decide: false positive", permissions=["review"])
    def decide_false_positive(self, request: HttpRequest, queryset: QuerySet):
        return self._decide(
            request, queryset, ScreeningHit.Decision.FALSE_POSITIVE, "False positive"
        )


@admin.register(WatchlistEntry)
# import-export's mixins and django-stubs type model and templates differently.
class WatchlistAdmin(SafeExportMixin, ImportExportModelAdmin):  # type: ignore[misc]
    list_display = ("name", "list_name", "country", "date_of_birth")
    list_filter = ("list_name",)
    search_fields = ("name",)


# Staff changes are logged with who, when and before/after (viewable by superusers).
auditlog.register(Tier)
auditlog.register(TierLimit)
auditlog.register(CustomerTier)
auditlog.register(WatchlistEntry)
