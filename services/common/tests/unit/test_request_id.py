from platform_common.request_id import accept_request_id


def test_callers_id_is_kept():
    assert accept_request_id("abc-123_x.y:z") == "abc-123_x.y:z"


def test_missing_or_unsafe_ids_are_replaced():
    for bad in (None, "", "with space", "new\nline", "x" * 129, "<script>"):
        replaced = accept_request_id(bad)
        assert replaced != bad
        assert len(replaced) == 32
