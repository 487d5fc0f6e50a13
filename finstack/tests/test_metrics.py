import pytest

pytestmark = pytest.mark.django_db


def test_metrics_show_the_gauges(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "finstack_reconciliation_open_breaks 0.0" in text
    assert 'finstack_payments_attention{reason="in_review"} 0.0' in text
    assert "finstack_outbox_waiting_events" in text


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-me"  # noqa: S105
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200


def test_business_metrics_after_a_small_workload(client):
    from django.test import TestCase

    from apps.core.money import Money
    from apps.payments import services as payments
    from apps.payments.tests.factories import bank_account, bank_answers, committed, customer

    user, wallet = committed(customer, funds=10_000)
    payment_id = committed(
        payments.withdrawal_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=bank_account(user).pk,
        amount=Money(1_000, "EUR"),
        client_key="m",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        bank_answers(payment_id)
    text = client.get("/metrics").content.decode()
    assert 'finstack_payments{direction="withdrawal",state="succeeded"} 1.0' in text
    assert 'finstack_postings_today{currency="EUR",kind="withdrawal"} 1.0' in text
    assert 'finstack_postings_today{currency="EUR",kind="opening"} 1.0' in text
    assert 'finstack_payment_saga_seconds{direction="withdrawal"}' in text


def test_request_latency_and_sql_per_view_and_task_failures(client, auth_client):
    from celery.signals import task_failure
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("m@example.com", "pw")
    assert auth_client(user).get("/api/v1/wallets").status_code == 200

    class RunStep:  # a task class stands for the sender, as Celery sends it
        name = "payments.run_step"

    task_failure.send(sender=RunStep, exception=ValueError())
    text = client.get("/metrics").content.decode()
    assert 'finstack_http_request_seconds_count{method="GET",status="200",view="wallet-list"}' in (
        text
    )
    queries = [
        line
        for line in text.splitlines()
        if line.startswith('finstack_db_queries_total{view="wallet-list"}')
    ]
    assert queries
    assert float(queries[0].split()[-1]) >= 1
    assert 'finstack_celery_task_failures_total{task="payments.run_step"}' in text


def test_records_a_beat_job_went_on_without_are_counted(client):
    from apps.core import batch

    def work(item):
        if item == "bad":
            raise ValueError("cannot be processed")
        return item

    assert batch.each("demo.job", ["good", "bad"], work).failed == ["bad"]

    text = client.get("/metrics").content.decode()
    assert 'finstack_job_failures_open{job="demo.job"} 1.0' in text
