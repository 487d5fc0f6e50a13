import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


def test_project_schema_builds_and_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


@pytest.mark.urls("apps.core.tests.urls")
def test_every_operation_documents_its_error_codes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/plumbing"]["post"]["responses"]
    codes = post["400"]["content"]["application/json"]["schema"]["properties"]["error"]
    assert codes["properties"]["code"]["enum"] == ["parse_error", "validation_error"]
    assert "500" in post
    private = schema["paths"]["/api/v1/private"]["get"]["responses"]
    assert {"401", "403", "429", "500"} <= set(private)
    assert "/api/v1/no-such-thing" not in schema["paths"]


def test_swagger_ui_and_schema_are_served(client):
    assert client.get("/api/docs/").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"Finstack API" in response.content


def test_the_committed_schema_is_the_generated_one(tmp_path):
    """docs/openapi.yaml is the API contract mobile developers read: it must match the code
    (regenerate with `make schema`)."""
    from pathlib import Path

    from django.core.management import call_command

    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated))
    committed = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
    assert generated.read_text() == committed.read_text(), "run `make schema` and commit it"
