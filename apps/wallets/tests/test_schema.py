from drf_spectacular.generators import SchemaGenerator


def codes(responses, status):
    schema = responses[status]["content"]["application/json"]["schema"]
    return set(schema["properties"]["error"]["properties"]["code"]["enum"])


def test_transfer_endpoint_documents_every_error_code_and_the_key_header():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/transfers"]["post"]
    responses = operation["responses"]
    assert codes(responses, "400") == {
        "idempotency_key_required",
        "parse_error",
        "validation_error",
    }
    assert codes(responses, "404") == {"recipient_not_found", "wallet_not_found"}
    assert codes(responses, "409") == {"idempotency_request_in_flight"}
    assert codes(responses, "422") == {
        "currency_mismatch",
        "idempotency_key_reused",
        "insufficient_funds",
        "limit_exceeded",
        "risk_denied",
        "self_transfer",
        "wallet_closed",
        "wallet_frozen",
    }
    assert codes(responses, "403") == {"not_allowed_to_send", "permission_denied"}
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert (header["in"], header["required"]) == ("header", True)
