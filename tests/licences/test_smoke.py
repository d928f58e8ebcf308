import json

from tongban.licences.selectors import licence_document
from tongban.licences.verification import verify_licence_document


def test_issue_and_verify(issue):
    licence = issue()
    doc = licence_document(licence)
    result = verify_licence_document(doc, trust="430100")
    assert result.valid, result
    doc2 = json.loads(json.dumps(doc))
    doc2["payload"]["data"]["address"] = "x"
    assert verify_licence_document(doc2, trust="430100").reason_code == "bad_signature"
