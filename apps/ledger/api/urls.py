from django.urls import path

from apps.ledger.api import views

urlpatterns = [
    path("ledger/accounts", views.LedgerAccountListApi.as_view(), name="ledger-accounts"),
    path(
        "ledger/accounts/<uuid:account_id>",
        views.LedgerAccountDetailApi.as_view(),
        name="ledger-account",
    ),
    path(
        "ledger/accounts/<uuid:account_id>/entries",
        views.LedgerAccountEntriesApi.as_view(),
        name="ledger-account-entries",
    ),
    path(
        "ledger/transactions",
        views.LedgerTransactionCreateApi.as_view(),
        name="ledger-transactions",
    ),
    path(
        "ledger/transactions/<uuid:transaction_id>",
        views.LedgerTransactionDetailApi.as_view(),
        name="ledger-transaction",
    ),
    path(
        "ledger/transactions/<uuid:transaction_id>/reverse",
        views.LedgerTransactionReverseApi.as_view(),
        name="ledger-transaction-reverse",
    ),
    path("ledger/holds", views.LedgerHoldCreateApi.as_view(), name="ledger-holds"),
    path("ledger/holds/<uuid:hold_id>", views.LedgerHoldDetailApi.as_view(), name="ledger-hold"),
    path(
        "ledger/holds/<uuid:hold_id>/post",
        views.LedgerHoldPostApi.as_view(),
        name="ledger-hold-post",
    ),
    path(
        "ledger/holds/<uuid:hold_id>/void",
        views.LedgerHoldVoidApi.as_view(),
        name="ledger-hold-void",
    ),
]
