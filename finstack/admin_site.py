from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    site_header = "Finstack back office"
    site_title = "Finstack"
    index_title = "Operations"

    def get_urls(self) -> list:
        dashboard = self.admin_view(self.dashboard)
        return [path("dashboard/", dashboard, name="dashboard"), *super().get_urls()]

    def dashboard(self, request):
        """Today at a glance for operations (the composition root may read every app)."""
        from apps.core import outbox
        from apps.kyc import selectors as kyc_selectors
        from apps.payments import selectors as payments_selectors
        from apps.reports import selectors as reports_selectors

        context = {
            **self.each_context(request),
            "title": "Dashboard",
            "volumes": reports_selectors.volumes(day=timezone.now().date()),
            "kyc_waiting": kyc_selectors.cases_waiting(),
            "payments": payments_selectors.attention(),
            "open_breaks": reports_selectors.open_breaks(),
            "outbox": outbox.lag(),
        }
        return TemplateResponse(request, "admin/dashboard.html", context)
