from ledger.documents import read_document


def test_a_contribution_is_posted_on_both_backends(ledger):
    document = read_document(
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": "500101",
         "scheme": "resident", "tier": 1, "amount": "10.00"}
    )
    outcome = ledger.post_one(document)
    assert outcome.status == "posted"
    assert outcome.postings == 2
