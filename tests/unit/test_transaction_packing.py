"""Assignment packs whole targets' writes into transactions within DynamoDB's limits: 100 items and 4 MB."""
from chalicelib.domain.targets import Target
from chalicelib.services.deployment import pack as _pack
from chalicelib.store.tx import MAX_BYTES, MAX_ITEMS, Tx


def _plan(controller_id: str, attribute_bytes: int, items: int = 3, ds_id: int = 1) -> tuple[str, Tx, dict]:
    tx = Tx()
    for n in range(items):
        tx.put(Target("T", f"{controller_id}-{n}", name=controller_id, created_at=1, last_modified_at=1,
                      attributes={"blob": "x" * attribute_bytes} if attribute_bytes else {}))
    return controller_id, tx, {ds_id: {"RUNNING": 1}}


def test_small_plans_are_packed_by_item_count():
    batches = _pack([_plan(f"c{i}", 0) for i in range(100)])
    # and two items a transaction: the set's action counts, the set's guard
    assert [sum(len(tx) for _, tx, _ in batch) for batch in batches] == [96, 96, 96, 12]


def test_each_set_whose_counts_move_takes_an_item():
    batches = _pack([_plan(f"c{i}", 0, ds_id=i) for i in range(30)])  # 3 items and a set of its own each
    assert [len(batch) for batch in batches] == [24, 6]


def test_large_plans_are_packed_by_bytes():
    plans = [_plan(f"c{i}", 300_000) for i in range(10)]  # about 900 KB a target: 3 fit in 3.5 MB
    batches = _pack(plans)
    assert [len(batch) for batch in batches] == [3, 3, 3, 1]
    for batch in batches:
        size = sum(tx.request_bytes() for _, tx, _ in batch)
        assert size <= MAX_BYTES < 4 * 1024 * 1024 and sum(len(tx) for _, tx, _ in batch) <= MAX_ITEMS
    assert [cid for batch in batches for cid, _, _ in batch] == [cid for cid, _, _ in plans]  # order kept


def test_request_bytes_follow_what_is_written():
    small, large = _plan("s", 10, items=1)[1], _plan("l", 100_000, items=1)[1]
    assert 100 < small.request_bytes() < 2_000
    assert 100_000 < large.request_bytes() < 102_000
