from django.urls import path

from apps.wallets.api import members, money_requests, views

urlpatterns = [
    path("wallets", views.WalletListApi.as_view(), name="wallet-list"),
    path("wallets/<uuid:wallet_id>", views.WalletDetailApi.as_view(), name="wallet-detail"),
    path("wallets/<uuid:wallet_id>/close", views.WalletCloseApi.as_view(), name="wallet-close"),
    path(
        "wallets/<uuid:wallet_id>/balance", views.WalletBalanceApi.as_view(), name="wallet-balance"
    ),
    path(
        "wallets/<uuid:wallet_id>/transactions",
        views.WalletTransactionsApi.as_view(),
        name="wallet-transactions",
    ),
    path(
        "wallets/<uuid:wallet_id>/members",
        members.WalletMemberListApi.as_view(),
        name="wallet-members",
    ),
    path(
        "wallets/<uuid:wallet_id>/members/<uuid:member_id>",
        members.WalletMemberDetailApi.as_view(),
        name="wallet-member-detail",
    ),
    path(
        "wallet-invitations",
        members.WalletInvitationListApi.as_view(),
        name="wallet-invitations",
    ),
    path(
        "wallet-invitations/<uuid:invitation_id>/accept",
        members.WalletInvitationAcceptApi.as_view(),
        name="wallet-invitation-accept",
    ),
    path(
        "wallet-invitations/<uuid:invitation_id>/decline",
        members.WalletInvitationDeclineApi.as_view(),
        name="wallet-invitation-decline",
    ),
    path("money-requests", money_requests.MoneyRequestListApi.as_view(), name="money-requests"),
    path(
        "money-requests/<uuid:request_id>/accept",
        money_requests.MoneyRequestAcceptApi.as_view(),
        name="money-request-accept",
    ),
    path(
        "money-requests/<uuid:request_id>/decline",
        money_requests.MoneyRequestDeclineApi.as_view(),
        name="money-request-decline",
    ),
    path(
        "money-requests/<uuid:request_id>/cancel",
        money_requests.MoneyRequestCancelApi.as_view(),
        name="money-request-cancel",
    ),
    path("recipients", views.RecipientLookupApi.as_view(), name="recipient-lookup"),
    path("transfers", views.TransferCreateApi.as_view(), name="transfer-create"),
    path("transfers/<uuid:transfer_id>", views.TransferDetailApi.as_view(), name="transfer-detail"),
]
