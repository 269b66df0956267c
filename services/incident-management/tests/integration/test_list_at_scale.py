"""The list without a search stops counting at 10,000 (`total_capped`, db/queries.py's
LIST_COUNT_CAP) instead of reading every matching row, and pages on past the count."""

from .test_search_at_scale import _fill, _newest_first, _page


async def test_the_list_says_more_than_10000_and_pages_past_it(harness):
    _fill(harness.database_url, "Node not ready", 10_002)

    first = await _page(harness)
    assert (first["total"], first["total_capped"]) == (10_000, True)
    far = await _page(harness, offset=10_000, limit=5)
    assert [i["id"] for i in far["items"]] == _newest_first(harness.database_url, "Node not ready")[10_000:]
    assert far["total_capped"] is True

    one_service = await _page(harness, service="svc-1")
    assert (one_service["total"], one_service["total_capped"]) == (5_001, False), "fewer than the cap: exact"
