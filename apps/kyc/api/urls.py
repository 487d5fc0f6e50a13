from django.urls import path

from apps.kyc.api import views

urlpatterns = [
    path("kyc/profile", views.ProfileApi.as_view(), name="kyc-profile"),
    path("kyc/documents", views.DocumentListApi.as_view(), name="kyc-documents"),
    path("kyc/submit", views.SubmitApi.as_view(), name="kyc-submit"),
    path(
        "kyc/cases/<uuid:case_id>/withdraw",
        views.CaseWithdrawApi.as_view(),
        name="kyc-case-withdraw",
    ),
    path("kyc/status", views.StatusApi.as_view(), name="kyc-status"),
    path("kyc/webhooks/<slug:provider>", views.VendorWebhookApi.as_view(), name="kyc-webhook"),
]
