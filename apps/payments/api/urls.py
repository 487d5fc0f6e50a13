from django.urls import path

from apps.payments.api import views

urlpatterns = [
    path("funding-sources", views.FundingSourceListApi.as_view(), name="funding-source-list"),
    path(
        "funding-sources/<uuid:source_id>",
        views.FundingSourceDetailApi.as_view(),
        name="funding-source-detail",
    ),
    path("deposits", views.DepositCreateApi.as_view(), name="deposit-create"),
    path("withdrawals", views.WithdrawalCreateApi.as_view(), name="withdrawal-create"),
    path("payments", views.PaymentListApi.as_view(), name="payment-list"),
    path("payments/<uuid:payment_id>", views.PaymentDetailApi.as_view(), name="payment-detail"),
    path(
        "payments/<uuid:payment_id>/cancel",
        views.PaymentCancelApi.as_view(),
        name="payment-cancel",
    ),
    path("webhooks/<slug:provider>", views.WebhookApi.as_view(), name="webhook"),
]
