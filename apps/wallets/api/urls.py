from django.urls import path

from apps.wallets.api import views

urlpatterns = [
    path("wallets", views.WalletListApi.as_view(), name="wallet-list"),
    path("wallets/<uuid:wallet_id>", views.WalletDetailApi.as_view(), name="wallet-detail"),
    path(
        "wallets/<uuid:wallet_id>/balance", views.WalletBalanceApi.as_view(), name="wallet-balance"
    ),
    path(
        "wallets/<uuid:wallet_id>/transactions",
        views.WalletTransactionsApi.as_view(),
        name="wallet-transactions",
    ),
    path("transfers", views.TransferCreateApi.as_view(), name="transfer-create"),
    path("transfers/<uuid:transfer_id>", views.TransferDetailApi.as_view(), name="transfer-detail"),
]
