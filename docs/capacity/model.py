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
    "memory_mb": 1024,  # the API function's: render() sets the memory_choice of api_handler
    "full_vcpu_mb": 1769,  # Lambda gives one vCPU at 1,769 MB, a proportional share below
    "platform_log_bytes": 330,  # START, END and REPORT lines of every invocation (text format)
    "response_framing_bytes": 200,  # headers the function URL adds (date, request id, ...) and TLS framing
    "default_concurrency": 1_000,  # account quota per region
    "rps_per_concurrency": 10,  # Lambda caps invocations per second at 10 x the concurrency quota
}

# --- the functions' memory (.chalice/config.json follows `memory_choice`) ---------------------------------------
FUNCTIONS_MEASURED = HERE / "functions.json"  # functions.py: each function's invocations and the cold start
CHALICE_CONFIG = HERE.parents[1] / ".chalice" / "config.json"
MEMORY = {
    "step_mb": 64, "min_mb": 128,  # Lambda takes any size in MB from 128; steps of 64 keep the choice stable
    # A cold start (`import app`, the first client and call) is CPU-bound: assumed to run at the memory's CPU share,
    # as a request does (Lambda documents no boost for it). A device whose request meets one waits for it; Lambda
    # stops an init at 10 s, so the other functions keep half of that.
    "init_budget_s": {"api_handler": 3.0, "default": 5.0},
    "rss_headroom": 2.0,  # the process's peak memory, twice over
    # The API function also serves the Management API's scans (a filter no index serves): SCAN_CAP targets read in
    # 1 MB Query pages of 1,000, each page well under 0.3 s from DynamoDB ("Target lists"), within API Gateway's
    # 29 s with a tenth to spare.
    "scan_dynamodb_ms_per_target": 0.3, "scan_within_s": 29 * 0.9,
    "timeout_s": 30,  # lambda_timeout of every function
}
# The schedules' rates (app.py) in fires a month, and the functions the fleet does not use (DMF: the model's fleet
# speaks DDI; the consumer is sized by its constraints alone).
SCHEDULES_PER_MONTH = {"action_cleanup": 730, "overdue_detection": 8_760, "config_task_expiry": 730, "reaper": 8_760,
                       "auto_assignment": 730, "rollout_check": 43_800}
FEED_BATCH = 100  # infra/change-feed.json's BatchSize: at the fleet's record rate every batch is full
SQS_LATENCY_MS = {"SendMessage": 10, "SendMessageBatch": 15, "DeleteMessage": 8, "GetQueueUrl": 8, "PutEvents": 15,
                  "ReceiveMessage": 10}

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
        self.functions: dict = {}  # functions.json, for the functions' section

    def units(self, op: str) -> tuple[float, float]:
        return self.ops[op]["units"]["rru"], self.ops[op]["units"]["wru"]

    def key_units(self, op: str, where: str, key: str | None = None, sort: str | None = None) -> tuple[float, float]:
        """(RRU, WRU) one request charges to a table or index, optionally to one key pattern of it."""
        charged = [k for k in self.ops[op]["units"]["keys"] if k["where"] == where
                   and (key is None or k["key"] == key) and (sort is None or k["sort"] == sort)]
        return sum(k["rru"] for k in charged), sum(k["wru"] for k in charged)

    def last_seen_writes_per_poll(self) -> float:
        return min(1.0, FLEET["poll_interval_s"] / FLEET["last_seen_write_interval_s"])

    def idle_poll_units(self, write_share: float | None = None) -> tuple[float, float]:
        """An idle poll: its read, plus the last-seen write on the share of polls that write it."""
        share = self.last_seen_writes_per_poll() if write_share is None else write_share
        read, _ = self.units("idle_poll")
        _, write = self.units("idle_poll_with_last_seen_write")
        return read, share * write

    def cpu_ms(self, op: str) -> float:
        """In-process time here (app, chalice, botocore; without moto), at Lambda's CPU share."""
        timing = self.ops[op].get("time_ms") or self.ops[_TIMED_LIKE.get(op, op)]["time_ms"]
        share = min(1.0, LAMBDA["memory_mb"] / LAMBDA["full_vcpu_mb"])
        return timing["app_p50"] / share

    def wait_ms(self, op: str) -> float:
        return sum(LATENCY_MS[call] * n for call, n in self.ops[op]["units"]["calls"].items())

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

    def monthly(self, door: str = "function_url", arm: bool = False) -> dict[str, float]:
        polls = self.polls_per_s() * MONTH_S
        rollout = FLEET["rollout_devices"]
        mix = self.rollout_requests()
        device_requests = polls + rollout * sum(mix.values())
        rru_poll, wru_poll = self.idle_poll_units()
        rru = polls * rru_poll + rollout * sum(n * self.units(op)[0] for op, n in mix.items())
        wru = polls * wru_poll + rollout * sum(n * self.units(op)[1] for op, n in mix.items())
        assign_rru, assign_wru = self.units("assign_per_target_of_1000")
        rru += rollout * assign_rru
        wru += rollout * assign_wru
        share = self.last_seen_writes_per_poll()
        poll_gb_s = polls * (share * self.gb_s("idle_poll_with_last_seen_write") + (1 - share) * self.gb_s("idle_poll"))
        gb_s = poll_gb_s + rollout * sum(n * self.gb_s(op) for op, n in mix.items())
        out_gb = polls * self.response_gb("idle_poll") + rollout * sum(n * self.response_gb(op) for op, n in mix.items())
        stored_gb = self.stored_gb()
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
            "The other functions (change feed, jobs, schedules)": self.other_functions(),
        }

    def other_functions(self) -> float:
        """Requests and duration of every function but the API's, each at its memory ("The functions' memory")."""
        if not self.functions:
            return 0.0
        fns = Functions(self, self.functions)
        names = [name for name in FUNCTION_NAMES if name != "api_handler"]
        return sum(fns.per_month(n) / 1e6 * PRICES["lambda_request_per_m"] + fns.cost(n, fns.choice(n)[0])
                   for n in names)

    def stored_gb(self) -> float:
        """A device's target, token guard and kept actions, each action with one history entry per request of
        its rollout and its assignment's; every item and index entry with DynamoDB's 100 bytes."""
        stored, sizes = self.m["stored"], self.m["item_sizes"]
        target = stored["targets"]["item"] + stored["targets"]["indexes"] + sizes["tenants:token"] + 100
        history = (1 + sum(self.rollout_requests().values())) * (sizes["action-status"] + 100)
        action = stored["actions"]["item"] + stored["actions"]["indexes"] + history
        return FLEET["devices"] * (target + FLEET["actions_kept_per_device"] * action) / GB

    def rollout_units_per_device(self) -> tuple[float, float]:
        """(RRU, WRU) of one device's rollout: its share of the assignment and its requests."""
        assign = self.units("assign_per_target_of_1000")
        return tuple(sum(n * self.units(op)[i] for op, n in self.rollout_requests().items()) + assign[i]
                     for i in (0, 1))

    # -- one tenant's ceilings: the key ranges its devices share, each at most one partition's throughput
    def overdue_fleet_ceiling(self) -> float:
        """Devices one tenant can have polling before the overdue index's key ranges throttle (every last-seen
        write moves the device's entry to the newest end of its shard's range)."""
        _, overdue = self.key_units("idle_poll_with_last_seen_write", "targets/by-seen")
        per_device_per_s = self.last_seen_writes_per_poll() * overdue / FLEET["poll_interval_s"]
        return self.shards("overdue") * PARTITION_WCU / per_device_per_s

    def by_tenant_pace(self) -> float:
        """Actions a second one tenant can create before `actions/by-tenant`'s key ranges throttle."""
        _, per_action = self.key_units("assign_per_target_of_1000", "actions/by-tenant")
        return self.shards("actions") * PARTITION_WCU / per_action

    def onboarding_write_ceiling(self) -> float:
        """Registrations a second one tenant's usage counter items take (each at most one partition's writes)."""
        _, per_target = self.key_units("plug_and_play_first_poll", "tenants", sort=USAGE_COUNTER)
        return self.shards("usage") * PARTITION_WCU / per_target

    def quota_check_rru(self) -> float:
        """The strongly consistent Query of the counter items a registration reads before its write: the
        registration's only Query of the tenants table (a Query's charge names no sort key), the tenant's
        configuration being cached."""
        return self.key_units("plug_and_play_first_poll", "tenants", "{tenant}", sort="")[0]

    def onboarding_read_ceiling(self) -> float:
        """Registrations a second if the counter items share one partition: every one reads all of them."""
        return PARTITION_RCU / self.quota_check_rru()

    def shards(self, what: str) -> int:
        """Key ranges per tenant the code spreads a shared key over (measured.json, from the code's constants)."""
        return self.m["shards"][what]

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
# Partition key values that many devices of one tenant share, and whether the sort key spreads their writes
# (DynamoDB's split for heat can then divide the key's range over partitions) or grows with time (every new
# write lands at the same end of the range, in one partition, however often it splits). (table or index,
# partition key pattern, sort key pattern or None for any) -> (key schema, how the sort key behaves, the
# measured.json `shards` entry saying how many such keys a tenant has, or None: one key, split for heat).
KEY_RANGES = {
    ("targets", "{tenant}", None): ("tenant / controller_id", "spread", None),
    ("targets/by-seen", "{tenant}#{shard}", None): ("tenant#shard / seen_order (a time)", "grows with time",
                                                     "overdue"),
    ("targets/assigned-ds", "{tenant}#{id}", None): ("tenant#dsId / controller_id", "spread", None),
    ("targets/installed-ds", "{tenant}#{id}", None): ("tenant#dsId / controller_id", "spread", None),
    ("actions/by-tenant", "{tenant}#{shard}", None): ("tenant#shard / action_id (in sequence)", "grows with ids",
                                                      "actions"),
    ("actions/cleanup", "{tenant}#FINISHED#{shard}", None): ("tenant#STATUS#shard / closed_at (a time)",
                                                             "grows with time", "actions"),
    ("actions/open-by-ds", "{tenant}#{id}#{shard}", None): ("tenant#dsId#shard / action_id (in sequence)",
                                                            "grows with ids", "actions"),
    ("tenants", "{tenant}", "usage#TARGET#{shard}"): ("tenant / usage#TARGET#shard (counter items)", "one item each",
                                                      "usage"),
    ("tenants", "{tenant}", "dsactions#{id}#{shard}"): ("tenant / dsactions#dsId#shard (a set's action counts)",
                                                        "one item each", "ds_counts"),
}
USAGE_COUNTER = "usage#TARGET#{shard}"
PARTITION_WCU, PARTITION_RCU = 1000, 3000
TABLE_QUOTA = 40_000  # on-demand maximum per table and per index, read and write, by default (adjustable)

# Issue 7's reshaping of the data (commits 72993fd to d3bcfff), the figures before it: docs/capacity.md and
# docs/capacity/measured.json at 0f73091, the last measurement of the old layout (its "current shape").
BEFORE = {
    "commit": "0f73091",
    "action_bytes": 1_479,  # the deployment snapshot (modules, artifacts, links) on every action
    "target_bytes": 618, "overdue_entry_bytes": 49,
    "device_request_wru": (8, 2),  # deploymentBase, a download, a proceeding feedback: WRU (of which index)
    "closing_feedback_wru": (12, 4),
    "assign_wru": (11.007, 3),  # per target of 1,000
    "rollout_wru_per_device": 79.007,
    "rollout_peak_wru": 86_563,  # on top of polling
    "actions_peak_wru": 39_556,
    "by_tenant_peak_wru": 19_778,  # a full copy of the action, rewritten by every device request, one key range
    "cleanup_peak_wru": 1_111,
    "overdue_fleet_ceiling": 150_000,  # one key range per tenant
    "rollout_devices_per_s": 62.5,  # 1,000 WCU / 16 WRU on actions/by-tenant per device's rollout
    "onboarding_per_s": 500,  # 1,000 WCU / 2 WRU on the one usage#TARGET item
    "overdue_job_per_device_found": (1, 0.5),  # Queries, RRU
    "reads_month": 5_476.06, "writes_month": 164_299.38, "storage_month": 57.28,
    "lambda_duration_month": 17_523.32, "total_month": 228_098.19,
}
DYNAMODB_COSTS = ("DynamoDB reads", "DynamoDB writes", "DynamoDB storage + PITR")


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
    monthly = model.monthly()
    total = sum(monthly.values())
    writes = monthly["DynamoDB writes"]
    rru, wru = model.idle_poll_units()
    polls = model.polls_per_s() * MONTH_S
    doors = {k: tiered(polls, per_million(PRICES[f"{k}_per_m"])) for k in ("rest_api", "http_api")}
    onboarding = min(model.onboarding_write_ceiling(), model.onboarding_read_ceiling())
    dynamodb = sum(monthly[k] for k in DYNAMODB_COSTS)
    dynamodb_before = BEFORE["reads_month"] + BEFORE["writes_month"] + BEFORE["storage_month"]
    return "\n".join([
        f"- **{FLEET['devices'] / 1e6:g} million devices polling every {FLEET['poll_interval_s'] // 60} minutes** "
        f"are {_fmt(model.polls_per_s())} polls/s. A poll reads {rru:g} RRU (one eventually consistent GetItem of "
        f"a target of at most {model.m['item_sizes']['targets']} bytes) and, because last-seen is written at most once a "
        f"minute, every poll also writes it: {wru:g} WRU (the target, and its `by-seen` index entry moved: the targets' order by lastControllerRequestAt, which the overdue job reads too).",
        f"- **About ${total / 1000:,.0f},000 a month** behind a function URL, with one 1-million-device rollout: "
        f"DynamoDB writes are {_money(writes)} ({writes / total:.0%}), almost all of them that last-seen write. "
        f"Issue 7's reshaping of the data (\"What changed\") cut a rollout's writes from "
        f"{BEFORE['rollout_wru_per_device']:g} to {model.rollout_units_per_device()[1]:g} WRU a device and lifted one "
        f"tenant's ceilings, but took only {_money(dynamodb_before - dynamodb)} a month off DynamoDB's bill: "
        "writing last-seen "
        "less often, or into a small item of its own, is the lever (see \"What moves the bill\").",
        f"- **Front door**: the DDI traffic alone would cost {_money(doors['rest_api'])} a month through the REST "
        f"API and {_money(doors['http_api'])} through an HTTP API; a Lambda function URL costs nothing on top of "
        "Lambda. skyhawk now deploys one for the DDI routes and keeps the REST API for everything else.",
        f"- **One tenant's ceilings**: its devices share {model.shards('overdue')} key ranges of the `by-seen` index "
        f"(**{_fmt(model.overdue_fleet_ceiling())} devices** polling every {FLEET['poll_interval_s'] // 60} minutes), "
        f"{model.shards('actions')} of `actions/by-tenant` ({_fmt(model.by_tenant_pace())} new actions/s) and "
        f"{model.shards('usage')} usage counter items (about {_fmt(round(onboarding, -2))} registrations/s); "
        "the targets table's tenant key relies on DynamoDB splitting it. A single tenant with the whole fleet is "
        "past the "
        "`by-seen` ceiling (\"Hot keys\").",
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
        f"| Lambda | the API function at {LAMBDA['memory_mb']} MB (\"The functions' memory\"), x86_64 |",
        f"| management API | {FLEET['management_requests_per_month']:,} requests a month on the REST API |",
        f"| kept per device | {FLEET['actions_kept_per_device']} closed actions with their history |"])


def section_units(model: Model) -> str:
    rows = ["| request | DynamoDB calls | RRU | WRU (of which index) | answer bytes |", "|---|---|---:|---:|---:|"]
    for op, label in OPERATIONS:
        units = model.ops[op]["units"]
        calls = ", ".join(f"{n:g} {c}" for c, n in sorted(units["calls"].items()))
        answer = model.ops[op].get("response_bytes")
        rows.append(f"| {label} | {calls} | {units['rru']:g} | {units['wru']:g} ({units['index_wru']:g}) | "
                    f"{answer if answer else '–'} |")
    return "\n".join(rows)


def section_sizes(model: Model) -> str:
    sizes = model.m["item_sizes"]
    names = {"targets": "target (with 5 attributes from configData)", "actions": "action",
             "action-status": "history entry", "targets/by-seen": "by-seen index entry",
             "tenants:token": "security-token guard", "tenants:usage": "usage counter item"}
    rows = ["| item | bytes | WRU to write | RRU to read (eventually consistent) |", "|---|---:|---:|---:|"]
    for kind, label in names.items():
        if kind in sizes:
            size = sizes[kind]
            rows.append(f"| {label} | {size:,} | {math.ceil(size / 1024)} | {max(1, math.ceil(size / 4096)) / 2:g} |")
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


def _rates(model: Model) -> dict[str, dict[tuple[str, str, str], list[float]]]:
    """Units per second by key range: steady polling, the rollout's peak, an onboarding burst."""
    scenarios: dict[str, dict[tuple[str, str, str], list[float]]] = {"steady": {}, "peak": {}, "onboarding": {}}
    share = model.last_seen_writes_per_poll()

    def add(scenario, op, rate):
        for key in model.ops[op]["units"]["keys"]:
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
    rows = ["| table / index | hash / sort key | sort key | key ranges a tenant has | steady WRU/s "
            f"| rollout peak WRU/s | onboarding WRU/s "
            f"| busiest scenario, per key range (limit {PARTITION_WCU:,} WCU) |",
            "|---|---|---|---:|---:|---:|---:|---:|"]
    rates = _rates(model)
    for (where, key, sort), (schema, behaviour, shards) in KEY_RANGES.items():
        load = [_range_rate(rates[s], where, key, sort)[1] for s in ("steady", "peak", "onboarding")]
        if shards is None:
            ranges = "1, split for heat"
            partitions = math.ceil(max(load) / PARTITION_WCU)
            busiest = f"{partitions:,} " + ("partitions' worth" if partitions > 1 else "partition's worth")
        else:
            ranges = f"{model.shards(shards)}"
            per_range = max(load) / model.shards(shards)
            busiest = _fmt(per_range) + (f" (**{per_range / PARTITION_WCU:.1f} × the limit**)"
                                         if per_range > PARTITION_WCU else "")
        rows.append(f"| {where} | {schema} | {behaviour} | {ranges} | {_fmt(load[0])} | {_fmt(load[1])} | "
                    f"{_fmt(load[2])} | {busiest} |")
    reads = _range_rate(rates["steady"], "targets", "{tenant}")[0]
    check = model.quota_check_rru() * model.onboarding_per_s()
    rows += ["", f"Reads: polls put {_fmt(reads)} RRU/s on the targets table's `{{tenant}}` key (0.5 each), "
                 f"{math.ceil(reads / PARTITION_RCU)} partitions' worth at {PARTITION_RCU:,} RCU each. The onboarding "
                 f"burst's quota checks read the {model.shards('usage')} counter items {_fmt(check)} times a second "
                 f"({model.quota_check_rru():g} RRU each, strongly consistent)."]
    return "\n".join(rows)


def section_tenant_ceiling(model: Model) -> str:
    """The largest fleet, rollout pace and onboarding rate one tenant has before its shared keys throttle."""
    _, overdue = model.key_units("idle_poll_with_last_seen_write", "targets/by-seen")
    fleet = model.overdue_fleet_ceiling()
    over = FLEET["devices"] / fleet
    shards_needed = math.ceil(model.shards("overdue") * over)
    by_tenant = model.key_units("assign_per_target_of_1000", "actions/by-tenant")[1]
    device_writes = sum(n * model.key_units(op, "actions/by-tenant")[1] for op, n in model.rollout_requests().items())
    pace = model.by_tenant_pace()
    counter = model.key_units("plug_and_play_first_poll", "tenants", sort=USAGE_COUNTER)[1]
    writes, reads = model.onboarding_write_ceiling(), model.onboarding_read_ceiling()
    onboarding = min(writes, reads)
    return "\n".join([
        f"- **Idle fleet**: the `by-seen` index takes {overdue:g} WRU per last-seen write, at the newest end of "
        f"one of {model.shards('overdue')} key ranges per tenant (`tenant#shard`, the shard a hash of the "
        f"controller id), so one tenant polling every {FLEET['poll_interval_s'] // 60} minutes tops out at "
        f"**{_fmt(fleet)} devices**. A tenant with all {FLEET['devices']:,} is {over:.1f} times past it: the index "
        "throttles, and DynamoDB throttles the last-seen writes that feed it. The poll still answers, but its "
        "last-seen is not written, and a device whose writes keep failing is reported overdue while it polls. "
        f"Such a tenant needs at least {shards_needed} list shards, more for headroom (`LIST_SHARDS`; each "
        "one more Query per run of the overdue job and per sorted target list).",
        f"- **Rollout pace**: an action enters `actions/by-tenant` once, when it is created ({by_tenant:g} WRU, keys "
        f"only, {model.shards('actions')} shards); device requests write {device_writes:g} WRU there (a keys-only "
        "index is not rewritten when the action's status changes). Assignment tops out at "
        f"**{_fmt(pace)} actions/s** per tenant on that index: {FLEET['rollout_devices']:,} devices in "
        f"**{FLEET['rollout_devices'] / pace / 60:.1f} minutes** at best.",
        f"- **Onboarding**: every new target adds to one of {model.shards('usage')} `usage#TARGET#shard` counter "
        f"items inside its transaction ({counter:g} WRU), which caps a tenant at {_fmt(writes)} registrations/s. "
        f"Before that write a registration reads all {model.shards('usage')} items with one strongly consistent "
        f"Query ({model.quota_check_rru():g} RRU) to check the quota against their sum. They are a few hundred "
        "bytes side by side in the tenant's key range, so they most likely share a partition, and a split would "
        "not help much, since every registration reads them all: at "
        f"{PARTITION_RCU:,} RCU that is **about {_fmt(reads)} registrations/s**, the tighter bound "
        f"({FLEET['devices']:,} devices in **{FLEET['devices'] / onboarding / 60:.0f} minutes**). The onboarding "
        f"burst of the fleet ({_fmt(model.onboarding_per_s())} first polls/s) is past both: a cut-over of a whole "
        "fleet into one tenant throttles (botocore retries, then 503 with Retry-After, and the device polls "
        "again) unless it is paced."])


def section_dynamodb(model: Model) -> str:
    rates = _rates(model)

    def total(scenario, i, where=None):
        return sum(v[i] for (w, _, _), v in rates[scenario].items() if where is None or w == where)

    figures = [("steady reads (RRU/s)", total("steady", 0)), ("steady writes (WRU/s)", total("steady", 1)),
               ("rollout peak, reads on top (RRU/s)", total("peak", 0)),
               ("rollout peak, writes on top (WRU/s)", total("peak", 1)),
               ("steady writes, targets table (WRU/s)", total("steady", 1, "targets")),
               ("steady writes, by-seen index (WRU/s)", total("steady", 1, "targets/by-seen"))]
    return "\n".join(["| units per second | |", "|---|---:|"]
                     + [f"| {label} | {_fmt(value)} |" for label, value in figures])


def _peak_writes(model: Model) -> list[tuple[str, float]]:
    """(table or index, writes/s of its busiest scenario)."""
    rates = _rates(model)
    return [(where, max(_range_rate(rates[s], where)[1] for s in rates))
            for where in ("targets", "targets/by-seen", "actions", "actions/by-tenant", "action-status", "tenants")]


def section_limits(model: Model) -> str:
    """Per table and index: the busiest scenario's writes against the default on-demand maximum."""
    rows = ["| table or index | busiest scenario WRU/s | default on-demand maximum | raise to |",
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
    rru, wru = model.idle_poll_units()
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
    monthly = model.monthly()
    rows = ["| component | a month |", "|---|---:|"]
    rows += [f"| {component} | {_money(cost)} |" for component, cost in monthly.items()]
    rows.append(f"| **total a month** | **{_money(sum(monthly.values()))}** |")
    return "\n".join(rows)


def section_levers(model: Model) -> str:
    base = sum(model.monthly().values())

    def total(fleet=None, lam=None, **kw):
        saved = ({k: FLEET[k] for k in (fleet or {})}, {k: LAMBDA[k] for k in (lam or {})})
        FLEET.update(fleet or {})
        LAMBDA.update(lam or {})
        try:
            return sum(model.monthly(**kw).values())
        finally:
            FLEET.update(saved[0])
            LAMBDA.update(saved[1])

    _, wru = model.units("idle_poll_with_last_seen_write")
    presence = base - (model.polls_per_s() * MONTH_S * model.last_seen_writes_per_poll() * (wru - 1) / 1e6
                       * PRICES["ddb_wru_per_m"])
    rows = ["| change (from the layout above, behind the function URL) | a month | difference |", "|---|---:|---:|"]
    options = [
        ("last-seen written at most once an hour (`SKYHAWK_LAST_SEEN_WRITE_INTERVAL_MS=3600000`; overdue "
         "detection then needs `pollingOverdueTime` ≥ 1 h)", total(fleet={"last_seen_write_interval_s": 3600})),
        (f"last-seen in a presence item of its own (1 WRU, no index entry to move) instead of {wru:g} WRU",
         presence),
        ("no platform log lines (JSON log format, system log level WARN)", total(lam={"platform_log_bytes": 0})),
        (f"the API function at 1,024 MB instead of {LAMBDA['memory_mb']:,} MB", total(lam={"memory_mb": 1024})),
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
    rru, wru = model.rollout_units_per_device()
    requests = devices * sum(mix.values())
    gb_s = devices * sum(n * model.gb_s(op) for op, n in mix.items())
    lam = requests / 1e6 * PRICES["lambda_request_per_m"] + gb_s * PRICES["lambda_gb_s_x86"][0][1]
    return "\n".join([
        f"| one rollout to {devices:,} devices | |", "|---|---:|",
        f"| RRU / WRU per device (assignment and its requests) | {rru:g} / {wru:g} |",
        f"| DynamoDB reads | {_money(devices * rru / 1e6 * PRICES['ddb_rru_per_m'])} |",
        f"| DynamoDB writes | {_money(devices * wru / 1e6 * PRICES['ddb_wru_per_m'])} |",
        f"| Lambda ({_count(requests)} requests) | {_money(lam)} |",
        f"| {model.download_gb() / TB_GB:,.1f} TB of downloads via CloudFront (signed URLs) | "
        f"{_money(model.downloads_cloudfront())} |",
        f"| the same straight from S3 (presigned URLs) | {_money(model.downloads_s3())} |"])


def section_changes(model: Model) -> str:
    """Issue 7's reshaping: the figures of BEFORE next to the model's now."""
    b, sizes = BEFORE, model.m["item_sizes"]
    rates = _rates(model)
    peaks = dict(_peak_writes(model))
    monthly = model.monthly()

    def wru(op: str) -> str:
        units = model.ops[op]["units"]
        return f"{units['wru']:g} WRU ({units['index_wru']:g} index)"

    def on_ranges(where: str, shards: str) -> str:
        peak = _range_rate(rates["peak"], where)[1]
        return f"{_fmt(peak)} WRU/s on {model.shards(shards)} key ranges ({_fmt(peak / model.shards(shards))} each)"

    pace = model.by_tenant_pace()
    overdue_job = model.ops["overdue_job_per_device_found"]["units"]
    rows = [
        ("action item", f"{b['action_bytes']:,} bytes ({math.ceil(b['action_bytes'] / 1024)} WRU to write)",
         f"{sizes['actions']:,} bytes ({math.ceil(sizes['actions'] / 1024)} WRU)"),
        ("target item; its overdue index entry (now: by-seen)", f"{b['target_bytes']} bytes; {b['overdue_entry_bytes']} bytes",
         f"{sizes['targets']} bytes; {sizes['targets/by-seen']} bytes"),
        ("deploymentBase, a download, a proceeding feedback", "{:g} WRU ({:g} index)".format(*b["device_request_wru"]),
         wru("deployment_base")),
        ("closing feedback", "{:g} WRU ({:g} index)".format(*b["closing_feedback_wru"]),
         wru("feedback_closed_success")),
        ("assignment, per target", "{:g} WRU ({:g} index)".format(*b["assign_wru"]), wru("assign_per_target_of_1000")),
        ("one device's rollout (assignment and its requests)", f"{b['rollout_wru_per_device']:g} WRU",
         f"{model.rollout_units_per_device()[1]:g} WRU"),
        ("rollout peak, writes on top of polling", f"{_fmt(b['rollout_peak_wru'])} WRU/s",
         f"{_fmt(sum(v[1] for v in rates['peak'].values()))} WRU/s"),
        ("actions table, busiest scenario", f"{_fmt(b['actions_peak_wru'])} WRU/s", f"{_fmt(peaks['actions'])} WRU/s"),
        ("`actions/by-tenant`, rollout peak", f"{_fmt(b['by_tenant_peak_wru'])} WRU/s on 1 key range",
         on_ranges("actions/by-tenant", "actions")),
        ("`actions/cleanup`, rollout peak", f"{_fmt(b['cleanup_peak_wru'])} WRU/s on 1 key range",
         on_ranges("actions/cleanup", "actions")),
        ("one tenant's fleet (`overdue` index, now `by-seen`)", f"{_fmt(b['overdue_fleet_ceiling'])} devices (1 key range)",
         f"{_fmt(model.overdue_fleet_ceiling())} devices ({model.shards('overdue')} key ranges)"),
        ("one tenant's rollout pace (`actions/by-tenant`)",
         f"{b['rollout_devices_per_s']:.0f} devices/s: {FLEET['rollout_devices']:,} in "
         f"{FLEET['rollout_devices'] / b['rollout_devices_per_s'] / 3600:.1f} hours",
         f"{_fmt(pace)} actions/s: {FLEET['rollout_devices']:,} in {FLEET['rollout_devices'] / pace / 60:.1f} minutes"),
        ("one tenant's registrations (usage counter)", f"{_fmt(b['onboarding_per_s'])}/s (1 counter item)",
         f"{_fmt(model.onboarding_write_ceiling())}/s on the {model.shards('usage')} counter items' writes; about "
         f"{_fmt(model.onboarding_read_ceiling())}/s on the quota check's read (\"Hot keys\")"),
        ("overdue job, per device found (a run that finds 2)",
         "{:g} Query, {:g} RRU".format(*b["overdue_job_per_device_found"]),
         f"{overdue_job['calls'].get('Query', 0):g} Query, {overdue_job['rru']:g} RRU (one Query per shard)"),
        ("DynamoDB writes, a month", _money(b["writes_month"]), _money(monthly["DynamoDB writes"])),
        ("DynamoDB storage + PITR, a month", _money(b["storage_month"]), _money(monthly["DynamoDB storage + PITR"])),
        ("Lambda duration, a month (times measured again: they vary with the machine's load)",
         _money(b["lambda_duration_month"]), _money(monthly["Lambda duration"])),
        ("**total a month**", f"**{_money(b['total_month'])}**", f"**{_money(sum(monthly.values()))}**"),
    ]
    return "\n".join([f"| | before ({b['commit']}) | now |", "|---|---:|---:|"]
                     + [f"| {label} | {before} | {now} |" for label, before, now in rows])


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


# --- the functions' memory -------------------------------------------------------------------------------------
class Functions:
    """Each function's typical invocation (functions.json; the API function's requests are the Model's), its
    load in the fleet, and the memory that costs least within its constraints."""

    def __init__(self, model: Model, measured: dict) -> None:
        self.model, self.m = model, measured
        self.cold = measured["cold_start"]

    def invocation(self, name: str) -> tuple[float, float, float, str]:
        """(items, app CPU ms here, waits ms, what an item is) of one typical invocation, in the fleet's batches."""
        fns = self.m["functions"]
        if name == "change_feed":
            per = fns["change_feed@last_seen"]
            return FEED_BATCH, per["app_cpu_ms_per_item"] * FEED_BATCH, self._waits(per) * FEED_BATCH, "last-seen records"
        if name in ("jobs_worker", "dmf_inbound"):
            per = fns[name]
            batch = per["items"] / per["invocations"]
            return batch, per["app_cpu_ms_per_item"] * batch, self._waits(per) * batch, \
                "units of work" if name == "jobs_worker" else "DMF messages"
        per = fns[name]
        return 1, per["app_cpu_ms_p50"], self._waits(per), "schedule fired"

    @staticmethod
    def _waits(per: dict) -> float:
        waits = {**LATENCY_MS, **SQS_LATENCY_MS}
        return sum(waits[op.split(".", 1)[1]] * n for op, n in per["calls_per_item"].items())

    def per_month(self, name: str) -> float:
        """Invocations a month in the fleet."""
        if name == "api_handler":
            return (self.model.polls_per_s() * MONTH_S + FLEET["rollout_devices"] * sum(self.model.rollout_requests().values())
                    + FLEET["management_requests_per_month"])
        if name == "change_feed":
            return self.model.polls_per_s() * MONTH_S * self.model.last_seen_writes_per_poll() / FEED_BATCH
        if name == "dmf_inbound":
            return 0.0
        if name == "jobs_worker":  # one round of the six schedules queued `units` units; rounds at their rates
            per = self.m["functions"]["jobs_worker"]
            units_per_fire = per["items"] / len(SCHEDULES_PER_MONTH)
            return sum(SCHEDULES_PER_MONTH.values()) * units_per_fire / (per["items"] / per["invocations"])
        return SCHEDULES_PER_MONTH[name]

    def duration_ms(self, name: str, memory_mb: int) -> int:
        _, cpu, wait, _ = self.invocation(name)
        return math.ceil(cpu / min(1.0, memory_mb / LAMBDA["full_vcpu_mb"]) + wait)

    def cost(self, name: str, memory_mb: int) -> float:
        """Lambda duration a month at `memory_mb` (first-tier price; the API function's is the Model's)."""
        if name == "api_handler":
            saved = LAMBDA["memory_mb"]
            LAMBDA["memory_mb"] = memory_mb
            try:
                return self.model.monthly()["Lambda duration"]
            finally:
                LAMBDA["memory_mb"] = saved
        gb_s = self.per_month(name) * memory_mb / 1024 * self.duration_ms(name, memory_mb) / 1000
        return gb_s * PRICES["lambda_gb_s_x86"][0][1]

    def floors(self, name: str) -> dict[str, float]:
        """The least memory (MB) each constraint allows."""
        init_s = MEMORY["init_budget_s"].get(name, MEMORY["init_budget_s"]["default"])
        alloc = 0.0 if name == "api_handler" else (self._entry(name).get("alloc_peak_mb") or 0.0)
        floors = {"the minimum": MEMORY["min_mb"],
                  f"a cold start within {init_s:g} s": self.cold["cold_start_cpu_ms"] / 1000 / init_s
                  * LAMBDA["full_vcpu_mb"],
                  "twice its peak memory": (self.cold["max_rss_mb"] + alloc) * MEMORY["rss_headroom"]}
        if name == "api_handler":
            cap = self.m["scan_cap"]
            scan = self.m["functions"]["scan@targets"]
            budget = MEMORY["scan_within_s"] * 1000 - cap * MEMORY["scan_dynamodb_ms_per_target"]
            floors[f"a scan of {cap:,} targets within {MEMORY['scan_within_s']:g} s"] = (
                cap * scan["app_cpu_ms_per_item"] / budget * LAMBDA["full_vcpu_mb"])
        else:  # its largest invocation measured, within a quarter of the timeout
            _, cpu, wait, _ = self.invocation(name)
            worst = self._entry(name)["app_cpu_ms_max"] / max(cpu, 1e-9)
            budget = MEMORY["timeout_s"] * 1000 / 4 - wait * worst
            floors["its largest invocation within a quarter of the timeout"] = (
                cpu * worst / budget * LAMBDA["full_vcpu_mb"] if budget > 0 else math.inf)
        return floors

    def _entry(self, name: str) -> dict:
        return self.m["functions"]["change_feed@last_seen" if name == "change_feed" else name]

    def choice(self, name: str) -> tuple[int, str]:
        """(memory MB, the constraint that binds): the least memory every constraint allows, in steps. Less memory
        costs less for the same work as long as a function waits at all (GB-s = memory x (CPU / share + waits),
        the CPU part the same at any share below one vCPU), so the least allowed is the cheapest."""
        floors = self.floors(name)
        bound = max(floors, key=lambda k: floors[k])
        step = MEMORY["step_mb"]
        return max(MEMORY["min_mb"], math.ceil(floors[bound] / step) * step), bound


FUNCTION_NAMES = ("api_handler", "change_feed", "dmf_inbound", "jobs_worker", *SCHEDULES_PER_MONTH)


def memory_choice(functions_measured: dict, measured: dict) -> dict[str, int]:
    """The memory of each function, as .chalice/config.json must set it (tests/infra/test_capacity_model.py)."""
    fns = Functions(Model(measured), functions_measured)
    return {name: fns.choice(name)[0] for name in FUNCTION_NAMES}


def section_functions(model: Model) -> str:
    fns = Functions(model, model.functions)
    cold = fns.cold
    rows = [f"Measured by `functions.py` on {fns.m['machine']}, Python {fns.m['python']}: a cold start (`import "
            f"app`, the first client and call) takes {cold['cold_start_cpu_ms']:,.0f} ms of CPU here and the "
            f"process {cold['max_rss_mb']:.0f} MB.", "",
            "| function | one invocation | CPU here (ms) | waits (ms) | a month | memory (bound by) | billed ms | "
            "cold start | a month at that memory | at 1,024 MB |", "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for name in FUNCTION_NAMES:
        memory, bound = fns.choice(name)
        cold_s = cold["cold_start_cpu_ms"] / 1000 / min(1.0, memory / LAMBDA["full_vcpu_mb"])
        if name == "api_handler":
            one, cpu, wait = "a device request (the mix above)", "–", "–"
            month, billed = fns.per_month(name), "–"
        else:
            items, cpu_ms, wait_ms, what = fns.invocation(name)
            one = f"{items:g} {what}" if what != "schedule fired" else what
            cpu, wait = f"{cpu_ms:.1f}", f"{wait_ms:.0f}"
            month, billed = fns.per_month(name), str(fns.duration_ms(name, memory))
        rows.append(f"| `{name}` | {one} | {cpu} | {wait} | {_count(month) if month >= 1e6 else _fmt(month)} | {memory} MB ({bound}) | "
                    f"{billed} | {cold_s:.1f} s | {_money(fns.cost(name, memory))} | {_money(fns.cost(name, 1024))} |")
    return "\n".join(rows)


SECTIONS = {"headline": section_headline, "fleet": section_fleet, "units": section_units, "sizes": section_sizes, "time": section_time,
            "dynamodb": section_dynamodb, "hot-keys": section_hot_keys, "tenant-ceiling": section_tenant_ceiling,
            "limits": section_limits, "lambda": section_lambda, "front-doors": section_front_doors,
            "monthly": section_monthly, "changes": section_changes, "levers": section_levers,
            "rollout": section_rollout, "prices": section_prices, "functions": section_functions}
_MARKER = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)


def render(measured: dict, functions: dict | None = None) -> dict[str, str]:
    """Every generated section; the API function at the memory the model chooses for it."""
    functions = functions if functions is not None else json.loads(FUNCTIONS_MEASURED.read_text())
    LAMBDA["memory_mb"] = memory_choice(functions, measured)["api_handler"]
    model = Model(measured)
    model.functions = functions
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
