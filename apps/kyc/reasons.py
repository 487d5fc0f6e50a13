"""Reason codes for refusals: a customer-safe message each (staff notes are separate)."""

REASONS = {
    "document_unreadable": "A document could not be read. Upload a sharp photo in good light.",
    "document_expired": "A document has expired. Upload a valid one.",
    "name_mismatch": "The name on the document does not match your profile.",
    "selfie_mismatch": "The selfie does not match the photo on your document.",
    "address_proof_too_old": "The proof of address must be less than three months old.",
    "document_not_accepted": "This kind of document is not accepted. Upload another one.",
    "unable_to_verify": "We could not verify your identity.",
    "attempts_exhausted": "We could not verify your identity after several attempts.",
}
