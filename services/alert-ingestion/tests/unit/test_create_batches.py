"""How the owed creates are cut into batch requests: at most CREATE_BATCH to a
request and about CREATE_BATCH_BYTES of body, in the order owed."""

from alert_ingestion.clients.incidents import CREATE_BATCH, CREATE_BATCH_BYTES, _chunks


def test_creates_go_in_order_at_most_create_batch_to_a_request():
    bodies = [f'{{"n": {n}}}'.encode() for n in range(2 * CREATE_BATCH + 1)]
    chunks = list(_chunks(bodies))
    assert [len(chunk) for chunk in chunks] == [CREATE_BATCH, CREATE_BATCH, 1]
    assert [body for chunk in chunks for body in chunk] == bodies


def test_long_creates_are_cut_by_size_and_one_too_big_goes_alone():
    long = b"x" * (CREATE_BATCH_BYTES // 3 - 1)  # three fit (with the commas between), four do not
    huge = b"y" * (CREATE_BATCH_BYTES + 1)
    chunks = list(_chunks([long, long, long, long, huge, b"{}"]))
    assert chunks == [[long, long, long], [long], [huge], [b"{}"]]
    assert all(sum(len(body) + 1 for body in chunk) <= CREATE_BATCH_BYTES for chunk in chunks if huge not in chunk)
