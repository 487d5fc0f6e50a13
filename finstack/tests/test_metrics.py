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
