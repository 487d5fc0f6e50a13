from auditlog.registry import auditlog
from django.contrib import admin

from apps.kyc.models import CustomerTier, Tier, TierLimit


class TierLimitInline(admin.TabularInline):
    model = TierLimit
    extra = 0


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "can_withdraw")
    inlines = (TierLimitInline,)


@admin.register(CustomerTier)
class CustomerTierAdmin(admin.ModelAdmin):
    list_display = ("user", "tier", "changed_at")
    list_filter = ("tier",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "tier", "changed_at")  # tiers change through reviews only

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


# Staff changes are logged with who, when and before/after (viewable by superusers).
auditlog.register(Tier)
auditlog.register(TierLimit)
auditlog.register(CustomerTier)
