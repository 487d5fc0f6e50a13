from django.urls import path

from apps.reports.api import views

urlpatterns = [
    path("reports/summary", views.SummaryApi.as_view(), name="report-summary"),
    path("reports/statements", views.StatementApi.as_view(), name="report-statement"),
]
