"""The capacity and cost model: measured units per request (measured.json) x a fleet x list prices.

    .venv/bin/python docs/capacity/model.py            # print the generated sections
    .venv/bin/python docs/capacity/model.py --write    # rewrite them in docs/capacity.md

Every figure docs/capacity.md shows between `<!-- generated:NAME -->` markers comes from `render()`; the
prose around them explains. Assumptions that are not measured here (prices, DynamoDB latencies, Lambda's CPU
share, device behaviour during a rollout) are named in `FLEET`, `LAMBDA`, `LATENCY_MS` and `PRICES`.
Pure arithmetic: no AWS, no moto.
"""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "capacity.md"
MEASURED = HERE / "measured.json"
GB = 1024 ** 3
TB_GB = 1024
MONTH_S = 730 * 3600  # AWS bills a month as 730 hours

# --- the fleet -----------------------------------------------------------------------------------------------
FLEET = {
    "devices": 10_000_000,
    "poll_interval_s": 300,
    "last_seen_write_interval_s": 60,  # SKYHAWK_LAST_SEEN_WRITE_INTERVAL_MS
    "rollout_devices": 1_000_000,  # one rollout a month
    "rollout_window_s": 900,  # devices find it within a polling interval, download and install: 15 min
    "assign_targets_per_s": 1_000,  # the operator's assignment calls (1,000 targets each), back to back
    "downloads_per_device": 3,  # the set of measure.py: an OS bundle, an app archive and its signature
    "download_mb_per_device": 100,  # artifact bytes each device downloads (MB)
    "feedback_proceeding_per_device": 3,  # e.g. downloading, downloaded, installing
    "management_requests_per_month": 1_000_000,  # operators and pipelines on the REST API
    "actions_kept_per_device": 2,  # closed actions kept until action cleanup
}

# --- Lambda ---------------------------------------------------------------------------------------------------
LAMBDA = {
    "memory_mb": 1024,  # .chalice/config.json, stage prod
    "full_vcpu_mb": 1769,  # Lambda gives one vCPU at 1,769 MB, a proportional share below
    "platform_log_bytes": 330,  # START, END and REPORT lines of every invocation (text format)
    "response_framing_bytes": 200,  # headers the function URL adds (date, request id, ...) and TLS framing
    "default_concurrency": 1_000,  # account quota per region
    "rps_per_concurrency": 10,  # Lambda caps invocations per second at 10 x the concurrency quota
}

# In-region DynamoDB latency per call (p50, warm connections), what a Lambda waits for. DynamoDB promises
# single-digit milliseconds; these are assumptions, not measured here (moto answers in-process).
LATENCY_MS = {"GetItem": 3, "BatchGetItem": 5, "Query": 5, "PutItem": 5, "UpdateItem": 5, "DeleteItem": 5,
              "BatchWriteItem": 8, "TransactWriteItems": 12, "Scan": 10, "TransactGetItems": 6}

# --- list prices, us-east-1 ----------------------------------------------------------------------------------
PRICES_AS_OF = "2025 (the author's knowledge of aws.amazon.com/pricing; not re-checked from this machine)"
PRICES = {
    "rest_api_per_m": [(333e6, 3.50), (667e6, 2.80), (19e9, 2.38), (math.inf, 1.51)],
    "http_api_per_m": [(300e6, 1.00), (math.inf, 0.90)],
    "function_url_per_m": [(math.inf, 0.0)],
    "lambda_request_per_m": 0.20,
    "lambda_gb_s_x86": [(6e9, 0.0000166667), (9e9, 0.0000150000), (math.inf, 0.0000133334)],
    "lambda_gb_s_arm": [(7.5e9, 0.0000133334), (11.25e9, 0.0000120001), (math.inf, 0.0000106667)],
    "ddb_rru_per_m": 0.125,  # on-demand, since the November 2024 price cut
    "ddb_wru_per_m": 0.625,
    "ddb_storage_gb": 0.25,
    "ddb_pitr_gb": 0.20,
    # The first 100 GB a month (CloudFront: 1 TB) are free and count towards the first tier.
    "internet_out_gb": [(100, 0.0), (10 * TB_GB - 100, 0.09), (40 * TB_GB, 0.085), (100 * TB_GB, 0.07),
                        (math.inf, 0.05)],
    "cloudfront_out_gb": [(1 * TB_GB, 0.0), (9 * TB_GB, 0.085), (40 * TB_GB, 0.080), (100 * TB_GB, 0.060),
                          (350 * TB_GB, 0.040), (math.inf, 0.030)],
    "cloudfront_https_per_10k": 0.0100,
    "s3_get_per_1k": 0.0004,
    "cloudwatch_logs_ingest_gb": 0.50,
}


def tiered(amount: float, tiers: list[tuple[float, float]]) -> float:
    """Cost of `amount` units through tiers of (units in this tier, price per unit)."""
    cost, left = 0.0, amount
    for size, price in tiers:
        used = min(left, size)
        cost += used * price
        left -= used
        if left <= 0:
            break
    return cost


def per_million(tiers: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(size, price / 1e6) for size, price in tiers]


# --- per-request figures --------------------------------------------------------------------------------------
class Model:
    def __init__(self, measured: dict) -> None:
        self.ops = measured["operations"]
        self.m = measured

    def units(self, op: str, shape: str) -> tuple[float, float]:
        return self.ops[op][shape]["rru"], self.ops[op][shape]["wru"]

    def last_seen_writes_per_poll(self) -> float:
        return min(1.0, FLEET["poll_interval_s"] / FLEET["last_seen_write_interval_s"])

    def idle_poll_units(self, shape: str, write_share: float | None = None) -> tuple[float, float]:
        """An idle poll: its read, plus the last-seen write on the share of polls that write it."""
        share = self.last_seen_writes_per_poll() if write_share is None else write_share
        read, _ = self.units("idle_poll", shape)
        _, write = self.units("idle_poll_with_last_seen_write", shape)
        return read, share * write

    def cpu_ms(self, op: str) -> float:
        """In-process time here (app, chalice, botocore; without moto), at Lambda's CPU share."""
        timing = self.ops[op].get("time_ms") or self.ops[_TIMED_LIKE.get(op, op)]["time_ms"]
        share = min(1.0, LAMBDA["memory_mb"] / LAMBDA["full_vcpu_mb"])
        return timing["app_p50"] / share

    def wait_ms(self, op: str) -> float:
        return sum(LATENCY_MS[call] * n for call, n in self.ops[op]["current"]["calls"].items())

    def duration_ms(self, op: str) -> int:
        """Billed duration: Lambda bills by the millisecond, rounded up."""
        return math.ceil(self.cpu_ms(op) + self.wait_ms(op))

    def gb_s(self, op: str) -> float:
        return LAMBDA["memory_mb"] / 1024 * self.duration_ms(op) / 1000

    def response_gb(self, op: str) -> float:
        return (self.ops[op]["response_bytes"] + LAMBDA["response_framing_bytes"]) / GB

    # -- the fleet's request mix
    def polls_per_s(self) -> float:
        return FLEET["devices"] / FLEET["poll_interval_s"]

    def onboarding_per_s(self) -> float:
        return FLEET["devices"] / FLEET["poll_interval_s"]

    def rollout_requests(self) -> dict[str, float]:
        """Device requests of one rollout, per device (the poll that finds the action replaces an idle poll)."""
        return {"deployment_base": 1, "download_redirect": FLEET["downloads_per_device"],
                "feedback_proceeding": FLEET["feedback_proceeding_per_device"], "feedback_closed_success": 1}

    def monthly(self, shape: str, door: str = "function_url", arm: bool = False) -> dict[str, float]:
        polls = self.polls_per_s() * MONTH_S
        rollout = FLEET["rollout_devices"]
        mix = self.rollout_requests()
        device_requests = polls + rollout * sum(mix.values())
        rru_poll, wru_poll = self.idle_poll_units(shape)
        rru = polls * rru_poll + rollout * sum(n * self.units(op, shape)[0] for op, n in mix.items())
        wru = polls * wru_poll + rollout * sum(n * self.units(op, shape)[1] for op, n in mix.items())
        assign_rru, assign_wru = self.units("assign_per_target_of_1000", shape)
        rru += rollout * assign_rru
        wru += rollout * assign_wru
        share = self.last_seen_writes_per_poll()
        poll_gb_s = polls * (share * self.gb_s("idle_poll_with_last_seen_write") + (1 - share) * self.gb_s("idle_poll"))
        gb_s = poll_gb_s + rollout * sum(n * self.gb_s(op) for op, n in mix.items())
        out_gb = polls * self.response_gb("idle_poll") + rollout * sum(n * self.response_gb(op) for op, n in mix.items())
        stored_gb = self.stored_gb(shape)
        door_tiers = per_million(PRICES[f"{door}_per_m"])
        return {
            "Device front door": tiered(device_requests, door_tiers),
            "REST API (management)": tiered(FLEET["management_requests_per_month"], per_million(PRICES["rest_api_per_m"])),
            "Lambda requests": (device_requests + FLEET["management_requests_per_month"]) / 1e6
            * PRICES["lambda_request_per_m"],
            "Lambda duration": tiered(gb_s, PRICES["lambda_gb_s_arm" if arm else "lambda_gb_s_x86"]),
            "DynamoDB reads": rru / 1e6 * PRICES["ddb_rru_per_m"],
            "DynamoDB writes": wru / 1e6 * PRICES["ddb_wru_per_m"],
            "DynamoDB storage + PITR": stored_gb * (PRICES["ddb_storage_gb"] + PRICES["ddb_pitr_gb"]),
            "Data transfer out (API answers)": tiered(out_gb, PRICES["internet_out_gb"]),
            "Downloads via CloudFront": self.downloads_cloudfront(),
            "CloudWatch Logs (platform lines)": (device_requests * LAMBDA["platform_log_bytes"] / GB
                                                 * PRICES["cloudwatch_logs_ingest_gb"]),
        }

    def stored_gb(self, shape: str) -> float:
        """A device's target, token guard and kept actions, each action with one history entry per request of
        its rollout and its assignment's; every item and index entry with DynamoDB's 100 bytes."""
        stored, sizes = self.m["stored"][shape], self.m["item_sizes"]
        target = stored["targets"]["item"] + stored["targets"]["indexes"] + sizes["tenants:token"] + 100
        history = (1 + sum(self.rollout_requests().values())) * (sizes["action-status"] + 100)
        action = stored["actions"]["item"] + stored["actions"]["indexes"] + history
        return FLEET["devices"] * (target + FLEET["actions_kept_per_device"] * action) / GB

    def download_gb(self) -> float:
        return FLEET["rollout_devices"] * FLEET["download_mb_per_device"] * 1024 ** 2 / GB

    def downloads_cloudfront(self) -> float:
        gets = FLEET["rollout_devices"] * FLEET["downloads_per_device"]
        return (tiered(self.download_gb(), PRICES["cloudfront_out_gb"])
                + max(0, gets - 10e6) / 1e4 * PRICES["cloudfront_https_per_10k"])

    def downloads_s3(self) -> float:
        gets = FLEET["rollout_devices"] * FLEET["downloads_per_device"]
        return tiered(self.download_gb(), PRICES["internet_out_gb"]) + gets / 1e3 * PRICES["s3_get_per_1k"]


# Operations measured for units only take the time of the request they resemble most.
_TIMED_LIKE = {"feedback_closed_success": "feedback_proceeding", "plug_and_play_first_poll": "idle_poll_with_last_seen_write",
               "config_data": "feedback_proceeding"}

# --- key ranges -----------------------------------------------------------------------------------------------
# Partition key values that many devices share, and whether the sort key spreads their writes (DynamoDB's split
# for heat can then divide the key's range over partitions) or grows with time (every new write lands at the
# same end of the range, in one partition, however often it splits). (table or index, partition key pattern,
# sort key pattern or None for any) -> (key schema, how the sort key behaves).
KEY_RANGES = {
    ("targets", "{tenant}", None): ("tenant / controller_id", "spread"),
    ("targets/overdue", "{tenant}#{id}", None): ("tenant#shard / overdue_at (a time)", "grows with time, 16 ranges"),
    ("targets/assigned-ds", "{tenant}#{id}", None): ("tenant#dsId / controller_id", "spread"),
    ("targets/installed-ds", "{tenant}#{id}", None): ("tenant#dsId / controller_id", "spread"),
    ("actions/by-tenant", "{tenant}#{id}", None): ("tenant#shard / action_id (in sequence)", "grows with ids, 16 ranges"),
    ("actions/cleanup", "{tenant}#FINISHED", None): ("tenant#FINISHED / closed_at (a time)", "grows with time"),
    ("tenants", "{tenant}", "usage#TARGET"): ("tenant / usage#TARGET (one counter item)", "one item"),
}
PARTITION_WCU, PARTITION_RCU = 1000, 3000
INDEX_SHARDS = 16  # chalicelib.domain.actions.INDEX_SHARDS, targets.OVERDUE_SHARDS: key ranges per tenant
TABLE_QUOTA = 40_000  # on-demand maximum per table and per index, read and write, by default (adjustable)


def _fmt(n: float, digits: int = 0) -> str:
    return f"{n:,.{digits}f}"


def _money(n: float) -> str:
    sign, n = ("-" if n < 0 else ""), abs(n)
    return f"{sign}${n:,.0f}" if n >= 100 else f"{sign}${n:,.2f}"


def _count(n: float) -> str:
    for size, unit in ((1e9, " B"), (1e6, " M")):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n:.3g}"


# --- the generated sections -----------------------------------------------------------------------------------
OPERATIONS = [
    ("idle_poll", "Idle poll (last-seen not due)"),
    ("idle_poll_with_last_seen_write", "Idle poll writing last-seen"),
    ("poll_with_open_action", "Poll with an open action"),
    ("deployment_base", "deploymentBase"),
    ("download_redirect", "Artifact download (302)"),
    ("feedback_proceeding", "Feedback, proceeding"),
    ("feedback_closed_success", "Feedback, closed/success"),
    ("config_data", "configData"),
    ("create_target", "Create a target (Management API)"),
    ("plug_and_play_first_poll", "First poll of an unknown device (gateway token)"),
    ("assign_per_target_of_1000", "Assignment, per target of 1,000"),
    ("overdue_job_per_device_found", "Overdue job, per device found"),
]


def section_headline(model: Model) -> str:
    current, planned = model.monthly("current"), model.monthly("planned")
    total = sum(current.values())
    writes = current["DynamoDB writes"]
    rru, wru = model.idle_poll_units("current")
    polls = model.polls_per_s() * MONTH_S
    doors = {k: tiered(polls, per_million(PRICES[f"{k}_per_m"])) for k in ("rest_api", "http_api")}
    overdue = next(k["wru"] for k in model.ops["idle_poll_with_last_seen_write"]["current"]["keys"]
                   if k["where"] == "targets/overdue")
    ceiling = INDEX_SHARDS * PARTITION_WCU / (model.last_seen_writes_per_poll() * overdue / FLEET["poll_interval_s"])
    return "\n".join([
        f"- **{FLEET['devices'] / 1e6:g} million devices polling every {FLEET['poll_interval_s'] // 60} minutes** "
        f"are {_fmt(model.polls_per_s())} polls/s. A poll reads {rru:g} RRU (one eventually consistent GetItem of "
        f"a target of at most {model.m['item_sizes']['targets']} bytes) and, because last-seen is written at most once a "
        f"minute, every poll also writes it: {wru:g} WRU (the target, and its `overdue` index entry moved).",
        f"- **About ${total / 1000:,.0f},000 a month** behind a function URL, with one 1-million-device rollout: "
        f"DynamoDB writes are {_money(writes)} ({writes / total:.0%}), almost all of them that last-seen write. "
        f"The planned data layout changes the total by only {_money(abs(sum(planned.values()) - total))}: it "
        "fixes hot keys and rollouts, not the bill. Writing last-seen less often, or into a small item of its "
        "own, is the lever (see \"What moves the bill\").",
        f"- **Front door**: the DDI traffic alone would cost {_money(doors['rest_api'])} a month through the REST "
        f"API and {_money(doors['http_api'])} through an HTTP API; a Lambda function URL costs nothing on top of "
        "Lambda. skyhawk now deploys one for the DDI routes and keeps the REST API for everything else.",
        f"- **Hot keys**: the `overdue` index (16 shards a tenant) caps a tenant at {_fmt(ceiling)} devices polling every "
        f"{FLEET['poll_interval_s'] // 60} minutes; `actions/by-tenant`, `actions/cleanup`, the targets table's "
        "tenant key and the tenant's usage counter are the other shared key ranges (table below).",
        "- **Limits to raise**: Lambda concurrency (requests/s ÷ 10 binds before duration does), and the on-demand "
        "maximum (40,000 units/s by default) of " + ", ".join(f"`{w}`" for w, _ in _peak_writes(model)
                                                            if _ > TABLE_QUOTA * 0.66) + "."])


def section_fleet(model: Model) -> str:
    polls = model.polls_per_s()
    return "\n".join([
        "| parameter | value |", "|---|---|",
        f"| devices | {FLEET['devices']:,} |",
        f"| polling interval | {FLEET['poll_interval_s']} s: {_fmt(polls)} polls/s, "
        f"{polls * MONTH_S / 1e9:.1f} billion a month (730 h) |",
        f"| last-seen write interval | {FLEET['last_seen_write_interval_s']} s: a write on "
        f"{model.last_seen_writes_per_poll():.0%} of polls |",
        f"| rollout | {FLEET['rollout_devices']:,} devices once a month, each within "
        f"{FLEET['rollout_window_s'] // 60} min; per device 1 deploymentBase, {FLEET['downloads_per_device']} "
        f"downloads ({FLEET['download_mb_per_device']} MB), {FLEET['feedback_proceeding_per_device']} proceeding "
        "and 1 closing feedback |",
        f"| assignment pace | {FLEET['assign_targets_per_s']:,} targets/s (1,000 per call) |",
        f"| onboarding burst | {_fmt(model.onboarding_per_s())} first polls/s (every device registers within "
        "one polling interval, e.g. a migration cut-over) |",
        f"| Lambda | {LAMBDA['memory_mb']} MB (stage prod), x86_64 |",
        f"| management API | {FLEET['management_requests_per_month']:,} requests a month on the REST API |",
        f"| kept per device | {FLEET['actions_kept_per_device']} closed actions with their history |"])


def section_units(model: Model) -> str:
    rows = ["| request | DynamoDB calls | RRU | WRU (of which index) | planned RRU | planned WRU (index) | "
            "answer bytes |", "|---|---|---:|---:|---:|---:|---:|"]
    for op, label in OPERATIONS:
        cur, plan = model.ops[op]["current"], model.ops[op]["planned"]
        calls = ", ".join(f"{n:g} {c}" for c, n in sorted(cur["calls"].items()))
        answer = model.ops[op].get("response_bytes")
        rows.append(f"| {label} | {calls} | {cur['rru']:g} | {cur['wru']:g} ({cur['index_wru']:g}) | "
                    f"{plan['rru']:g} | {plan['wru']:g} ({plan['index_wru']:g}) | {answer if answer else '–'} |")
    return "\n".join(rows)


def section_sizes(model: Model) -> str:
    sizes, planned = model.m["item_sizes"], model.m["item_sizes_planned"]
    names = {"targets": "target (with 5 attributes from configData)", "actions": "action",
             "action-status": "history entry", "targets/overdue": "overdue index entry",
             "tenants:token": "security-token guard", "tenants:usage": "usage counter"}
    rows = ["| item | bytes | WRU to write | RRU to read (eventually consistent) | planned bytes |",
            "|---|---:|---:|---:|---:|"]
    for kind, label in names.items():
        if kind in sizes:
            size = sizes[kind]
            rows.append(f"| {label} | {size:,} | {math.ceil(size / 1024)} | {max(1, math.ceil(size / 4096)) / 2:g} | "
                        f"{planned.get(kind, size):,} |")
    return "\n".join(rows)


def section_time(model: Model) -> str:
    m = model.m
    share = min(1, LAMBDA["memory_mb"] / LAMBDA["full_vcpu_mb"])
    rows = [f"Measured on {m['machine']}, Python {m['python']}, {m['repeat']} runs of each request; Lambda at "
            f"{LAMBDA['memory_mb']} MB has {share:.2f} of a vCPU.", "",
            "| request | in-process here, p50 (ms) | p90 | at Lambda's CPU share | + DynamoDB waits | billed ms | GB-s |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for op, label in OPERATIONS[:7]:
        timing = model.ops[op].get("time_ms")
        if not timing:
            continue
        rows.append(f"| {label} | {timing['app_p50']:.2f} | {timing['app_p90']:.2f} | {model.cpu_ms(op):.1f} | "
                    f"{model.wait_ms(op):g} | {model.duration_ms(op)} | {model.gb_s(op):.4f} |")
    return "\n".join(rows)


def _rates(model: Model, shape: str) -> dict[str, dict[tuple[str, str, str], list[float]]]:
    """Units per second by key range: steady polling, the rollout's peak, an onboarding burst."""
    scenarios: dict[str, dict[tuple[str, str, str], list[float]]] = {"steady": {}, "peak": {}, "onboarding": {}}
    share = model.last_seen_writes_per_poll()

    def add(scenario, op, rate):
        for key in model.ops[op][shape]["keys"]:
            entry = scenarios[scenario].setdefault((key["where"], key["key"], key["sort"]), [0.0, 0.0])
            entry[0] += rate * key["rru"]
            entry[1] += rate * key["wru"]

    add("steady", "idle_poll", model.polls_per_s() * (1 - share))
    add("steady", "idle_poll_with_last_seen_write", model.polls_per_s() * share)
    devices = FLEET["rollout_devices"] / FLEET["rollout_window_s"]
    for op, n in model.rollout_requests().items():
        add("peak", op, devices * n)
    add("peak", "assign_per_target_of_1000", FLEET["assign_targets_per_s"])
    add("onboarding", "plug_and_play_first_poll", model.onboarding_per_s())
    return scenarios


def _range_rate(rates: dict, where: str, key: str | None = None, sort: str | None = None) -> list[float]:
    total = [0.0, 0.0]
    for (w, k, s), (r, u) in rates.items():
        if w == where and (key is None or k == key) and (sort is None or s == sort):
            total[0] += r
            total[1] += u
    return total


def section_hot_keys(model: Model) -> str:
    rows = ["| table / index | hash / sort key | sort key | steady WRU/s | rollout peak WRU/s | onboarding WRU/s | "
            "planned: steady / peak / onboarding | key ranges needed (≤ 500 WCU each) |",
            "|---|---|---|---:|---:|---:|---:|---:|"]
    current, planned = _rates(model, "current"), _rates(model, "planned")
    for (where, key, sort), (schema, behaviour) in KEY_RANGES.items():
        cur = [_range_rate(current[s], where, key, sort)[1] for s in ("steady", "peak", "onboarding")]
        plan = [_range_rate(planned[s], where, key, sort)[1] for s in ("steady", "peak", "onboarding")]
        needed = max(1, math.ceil(max(cur + plan) / (PARTITION_WCU / 2)))
        rows.append(f"| {where} | {schema} | {behaviour} | {_fmt(cur[0])} | {_fmt(cur[1])} | {_fmt(cur[2])} | "
                    f"{_fmt(plan[0])} / {_fmt(plan[1])} / {_fmt(plan[2])} | {needed:,} |")
    reads = _range_rate(current["steady"], "targets", "{tenant}")[0]
    rows += ["", f"Reads: polls put {_fmt(reads)} RRU/s on the targets table's `{{tenant}}` key (0.5 each), "
                 f"{math.ceil(reads / PARTITION_RCU)} partitions' worth at {PARTITION_RCU:,} RCU each."]
    return "\n".join(rows)


def section_tenant_ceiling(model: Model) -> str:
    """The largest fleet, rollout pace and onboarding rate one tenant has before its index keys throttle."""
    def wru(op: str, where: str, sort: str | None = None) -> float:
        return sum(k["wru"] for k in model.ops[op]["current"]["keys"]
                   if k["where"] == where and (sort is None or k["sort"] == sort))

    overdue = wru("idle_poll_with_last_seen_write", "targets/overdue")
    per_device_per_s = model.last_seen_writes_per_poll() * overdue / FLEET["poll_interval_s"]
    fleet = INDEX_SHARDS * PARTITION_WCU / per_device_per_s
    by_tenant = wru("assign_per_target_of_1000", "actions/by-tenant")
    device_writes = sum(n * wru(op, "actions/by-tenant") for op, n in model.rollout_requests().items())
    pace = INDEX_SHARDS * PARTITION_WCU / by_tenant
    counter = wru("plug_and_play_first_poll", "tenants", "usage#TARGET")
    onboarding = PARTITION_WCU / counter
    return "\n".join([
        f"- **Idle fleet**: the `overdue` index takes {overdue:g} WRU per last-seen write, at the newest end of "
        f"one of {INDEX_SHARDS} key ranges per tenant (`tenant#shard`, the shard a hash of the controller id), so "
        f"one tenant polling every {FLEET['poll_interval_s'] // 60} minutes tops out at **{_fmt(fleet)} devices** "
        "before the index throttles the last-seen writes that feed it.",
        f"- **Rollout pace**: an action enters `actions/by-tenant` once, when it is created ({by_tenant:g} WRU, keys "
        f"only, {INDEX_SHARDS} shards); device requests write {device_writes:g} WRU there (a keys-only index is "
        "not rewritten when the action's status changes). Assignment tops out at "
        f"**{_fmt(pace)} actions/s** per tenant on that index: {FLEET['rollout_devices']:,} devices in "
        f"**{FLEET['rollout_devices'] / pace / 60:.1f} minutes** at best.",
        f"- **Onboarding**: every new target updates the tenant's one `usage#TARGET` counter inside its transaction "
        f"({counter:g} WRU), so a tenant registers at most **{_fmt(onboarding)} targets/s**; "
        f"{FLEET['devices']:,} devices need **{FLEET['devices'] / onboarding / 3600:.1f} hours**, and concurrent "
        "first polls conflict on the counter (retried, then 409 or 503)."])


def section_dynamodb(model: Model) -> str:
    rows = ["| units per second | current shape | planned shape |", "|---|---:|---:|"]
    figures = {}
    for shape in ("current", "planned"):
        rates = _rates(model, shape)

        def total(scenario, i, where=None):
            return sum(v[i] for (w, _, _), v in rates[scenario].items() if where is None or w == where)

        figures[shape] = [total("steady", 0), total("steady", 1), total("peak", 0), total("peak", 1),
                          total("steady", 1, "targets"), total("steady", 1, "targets/overdue")]
    labels = ["steady reads (RRU/s)", "steady writes (WRU/s)", "rollout peak, reads on top (RRU/s)",
              "rollout peak, writes on top (WRU/s)", "steady writes, targets table (WRU/s)",
              "steady writes, overdue index (WRU/s)"]
    for i, label in enumerate(labels):
        rows.append(f"| {label} | {_fmt(figures['current'][i])} | {_fmt(figures['planned'][i])} |")
    return "\n".join(rows)


def _peak_writes(model: Model) -> list[tuple[str, float]]:
    """(table or index, writes/s of its busiest scenario) in the current shape."""
    current = _rates(model, "current")
    return [(where, max(_range_rate(current[s], where)[1] for s in current))
            for where in ("targets", "targets/overdue", "actions", "actions/by-tenant", "action-status", "tenants")]


def section_limits(model: Model) -> str:
    """Per table and index: the busiest scenario's writes against the default on-demand maximum."""
    rows = ["| table or index (current shape) | busiest scenario WRU/s | default on-demand maximum | raise to |",
            "|---|---:|---:|---:|"]
    for where, peak in _peak_writes(model):
        raise_to = f"{math.ceil(peak * 1.5 / 10_000) * 10_000:,}" if peak > TABLE_QUOTA * 0.66 else "–"
        rows.append(f"| {where} | {_fmt(peak)} | {TABLE_QUOTA:,} | {raise_to} |")
    return "\n".join(rows)


def section_lambda(model: Model) -> str:
    polls = model.polls_per_s()
    share = model.last_seen_writes_per_poll()
    poll_s = (share * model.duration_ms("idle_poll_with_last_seen_write")
              + (1 - share) * model.duration_ms("idle_poll")) / 1000
    devices = FLEET["rollout_devices"] / FLEET["rollout_window_s"]
    rollout_rps = devices * sum(model.rollout_requests().values())
    rollout_s = devices * sum(n * model.duration_ms(op) for op, n in model.rollout_requests().items()) / 1000
    steady, peak = polls * poll_s, polls * poll_s + rollout_s
    peak_rps = polls + rollout_rps
    quota = max(math.ceil(peak * 2 / 1000), math.ceil(peak_rps / LAMBDA["rps_per_concurrency"] * 1.5 / 1000)) * 1000
    return "\n".join([
        "| | steady | rollout peak |", "|---|---:|---:|",
        f"| device requests/s | {_fmt(polls)} | {_fmt(peak_rps)} |",
        f"| concurrent executions (requests/s × billed duration) | {_fmt(steady)} | {_fmt(peak)} |",
        f"| concurrency the cap of 10 requests/s per execution asks for | {_fmt(polls / LAMBDA['rps_per_concurrency'])} "
        f"| {_fmt(peak_rps / LAMBDA['rps_per_concurrency'])} |",
        "",
        f"Concurrency quota to ask for: **{quota:,}** in the region (default {LAMBDA['default_concurrency']:,}): "
        "twice the peak concurrency, or 1.5 × the peak requests/s ÷ 10, whichever is larger."])


def section_front_doors(model: Model) -> str:
    share = model.last_seen_writes_per_poll()
    rru, wru = model.idle_poll_units("current")
    gb_s = share * model.gb_s("idle_poll_with_last_seen_write") + (1 - share) * model.gb_s("idle_poll")
    base = {
        "Lambda requests": PRICES["lambda_request_per_m"],
        "Lambda duration": 1e6 * gb_s * PRICES["lambda_gb_s_x86"][0][1],
        f"DynamoDB ({rru:g} RRU + {wru:g} WRU a poll)": rru * PRICES["ddb_rru_per_m"] + wru * PRICES["ddb_wru_per_m"],
        "data transfer out": 1e6 * model.response_gb("idle_poll") * PRICES["internet_out_gb"][1][1],
        "CloudWatch Logs (platform lines)": 1e6 * LAMBDA["platform_log_bytes"] / GB * PRICES["cloudwatch_logs_ingest_gb"],
    }
    doors = [("REST API", "rest_api_per_m"), ("HTTP API", "http_api_per_m"), ("function URL", "function_url_per_m")]
    rows = ["| per million idle polls | " + " | ".join(d for d, _ in doors) + " |", "|---|" + "---:|" * len(doors),
            "| front door, first tier (last tier) | "
            + " | ".join(f"${PRICES[k][0][1]:.2f} (${PRICES[k][-1][1]:.2f})" for _, k in doors) + " |"]
    for label, cost in base.items():
        rows.append(f"| {label} | " + " | ".join(f"${cost:.2f}" for _ in doors) + " |")
    rows.append("| **total, first tier** | "
                + " | ".join(f"**${PRICES[k][0][1] + sum(base.values()):.2f}**" for _, k in doors) + " |")
    polls = model.polls_per_s() * MONTH_S
    rows.append(f"| the front door alone, {polls / 1e9:.1f} B polls a month (tiered) | "
                + " | ".join(_money(tiered(polls, per_million(PRICES[k]))) for _, k in doors) + " |")
    return "\n".join(rows)


def section_monthly(model: Model) -> str:
    current, planned = model.monthly("current"), model.monthly("planned")
    rows = ["| component | current shape | planned shape |", "|---|---:|---:|"]
    for component in current:
        rows.append(f"| {component} | {_money(current[component])} | {_money(planned[component])} |")
    rows.append(f"| **total a month** | **{_money(sum(current.values()))}** | **{_money(sum(planned.values()))}** |")
    return "\n".join(rows)


def section_levers(model: Model) -> str:
    base = sum(model.monthly("current").values())

    def total(fleet=None, lam=None, **kw):
        saved = ({k: FLEET[k] for k in (fleet or {})}, {k: LAMBDA[k] for k in (lam or {})})
        FLEET.update(fleet or {})
        LAMBDA.update(lam or {})
        try:
            return sum(model.monthly("current", **kw).values())
        finally:
            FLEET.update(saved[0])
            LAMBDA.update(saved[1])

    _, wru = model.units("idle_poll_with_last_seen_write", "current")
    presence = base - (model.polls_per_s() * MONTH_S * model.last_seen_writes_per_poll() * (wru - 1) / 1e6
                       * PRICES["ddb_wru_per_m"])
    rows = ["| change (from the current shape behind the function URL) | a month | difference |", "|---|---:|---:|"]
    options = [
        ("last-seen written at most once an hour (`SKYHAWK_LAST_SEEN_WRITE_INTERVAL_MS=3600000`; overdue "
         "detection then needs `pollingOverdueTime` ≥ 1 h)", total(fleet={"last_seen_write_interval_s": 3600})),
        (f"last-seen in a presence item of its own (1 WRU, no index entry to move) instead of {wru:g} WRU",
         presence),
        ("no platform log lines (JSON log format, system log level WARN)", total(lam={"platform_log_bytes": 0})),
        ("Lambda at 512 MB instead of 1,024 MB", total(lam={"memory_mb": 512})),
        ("Lambda on arm64 (Graviton), same durations", total(arm=True)),
        ("HTTP API instead of the function URL", total(door="http_api")),
        ("REST API instead of the function URL", total(door="rest_api")),
    ]
    for label, cost in options:
        rows.append(f"| {label} | {_money(cost)} | {_money(cost - base)} |")
    return "\n".join(rows)


def section_rollout(model: Model) -> str:
    devices = FLEET["rollout_devices"]
    mix = model.rollout_requests()
    per_device = {}
    for shape in ("current", "planned"):
        assign = model.units("assign_per_target_of_1000", shape)
        per_device[shape] = [sum(n * model.units(op, shape)[i] for op, n in mix.items()) + assign[i] for i in (0, 1)]
    rows = [f"| one rollout to {devices:,} devices | current shape | planned shape |", "|---|---:|---:|",
            f"| RRU / WRU per device (assignment and its requests) | {per_device['current'][0]:g} / "
            f"{per_device['current'][1]:g} | {per_device['planned'][0]:g} / {per_device['planned'][1]:g} |"]
    for i, label, price in ((0, "DynamoDB reads", PRICES["ddb_rru_per_m"]), (1, "DynamoDB writes", PRICES["ddb_wru_per_m"])):
        rows.append(f"| {label} | {_money(devices * per_device['current'][i] / 1e6 * price)} | "
                    f"{_money(devices * per_device['planned'][i] / 1e6 * price)} |")
    requests = devices * sum(mix.values())
    gb_s = devices * sum(n * model.gb_s(op) for op, n in mix.items())
    lam = requests / 1e6 * PRICES["lambda_request_per_m"] + gb_s * PRICES["lambda_gb_s_x86"][0][1]
    rows.append(f"| Lambda ({_count(requests)} requests) | {_money(lam)} | {_money(lam)} |")
    rows.append(f"| {model.download_gb() / TB_GB:,.1f} TB of downloads via CloudFront (signed URLs) | "
                f"{_money(model.downloads_cloudfront())} | {_money(model.downloads_cloudfront())} |")
    rows.append(f"| the same straight from S3 (presigned URLs) | {_money(model.downloads_s3())} | "
                f"{_money(model.downloads_s3())} |")
    return "\n".join(rows)


def section_prices(model: Model) -> str:
    def tiers(key: str, unit: str, divisor: float = 1) -> str:
        parts = []
        for i, (size, price) in enumerate(PRICES[key]):
            amount = f"${price:.10f}".rstrip("0").rstrip(".")
            if size == math.inf:
                parts.append(amount + (" beyond" if i else ""))
            else:
                parts.append(f"{amount} for the {'first' if i == 0 else 'next'} {_count(size / divisor)}{unit}")
        return "; ".join(parts)

    return "\n".join([
        f"List prices, us-east-1, as of {PRICES_AS_OF}. **Check them against the current pricing pages before "
        "budgeting with them.**", "",
        "| item | price |", "|---|---|",
        f"| API Gateway REST API, per million requests | {tiers('rest_api_per_m', ' requests a month')} |",
        f"| API Gateway HTTP API, per million requests (of 512 KB) | {tiers('http_api_per_m', ' requests a month')} |",
        "| Lambda function URL | nothing beyond the function's own requests and duration |",
        f"| Lambda requests | ${PRICES['lambda_request_per_m']} per million |",
        f"| Lambda duration, x86_64, per GB-s | {tiers('lambda_gb_s_x86', ' GB-s a month')} |",
        f"| Lambda duration, arm64, per GB-s | {tiers('lambda_gb_s_arm', ' GB-s a month')} |",
        f"| DynamoDB on-demand, standard table class | ${PRICES['ddb_rru_per_m']} per million read request units, "
        f"${PRICES['ddb_wru_per_m']} per million write request units |",
        f"| DynamoDB storage; point-in-time recovery | ${PRICES['ddb_storage_gb']}; ${PRICES['ddb_pitr_gb']} per "
        "GB-month |",
        f"| data transfer out to the internet (Lambda, API Gateway, S3), per GB | "
        f"{tiers('internet_out_gb', ' TB a month', TB_GB)} |",
        f"| CloudFront data out, North America and Europe, per GB | {tiers('cloudfront_out_gb', ' TB a month', TB_GB)} |",
        f"| CloudFront HTTPS requests | ${PRICES['cloudfront_https_per_10k']} per 10,000 (10 million a month free) |",
        f"| S3 GET | ${PRICES['s3_get_per_1k']} per 1,000 |",
        f"| CloudWatch Logs ingestion (standard) | ${PRICES['cloudwatch_logs_ingest_gb']} per GB |"])


SECTIONS = {"headline": section_headline, "fleet": section_fleet, "units": section_units, "sizes": section_sizes, "time": section_time,
            "dynamodb": section_dynamodb, "hot-keys": section_hot_keys, "tenant-ceiling": section_tenant_ceiling,
            "limits": section_limits, "lambda": section_lambda, "front-doors": section_front_doors,
            "monthly": section_monthly, "levers": section_levers, "rollout": section_rollout,
            "prices": section_prices}
_MARKER = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)


def render(measured: dict) -> dict[str, str]:
    model = Model(measured)
    return {name: section(model) for name, section in SECTIONS.items()}


def fill(doc: str, sections: dict[str, str]) -> str:
    """The document with every generated section replaced by its rendering."""
    return _MARKER.sub(lambda m: m.group(1) + sections[m.group("name")] + "\n" + m.group(4), doc)


if __name__ == "__main__":
    rendered = render(json.loads(MEASURED.read_text()))
    if "--write" in sys.argv:
        DOC.write_text(fill(DOC.read_text(), rendered))
    else:
        for name, text in rendered.items():
            print(f"<!-- generated:{name} -->\n{text}\n<!-- /generated -->\n")
