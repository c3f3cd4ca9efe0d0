"""The one home of quota decisions (domain/quotas.py) and of authentication/authorization decisions
(chalicelib/auth.py), as pure functions: every refusal is 403 `quota.*`, never 429."""
import pytest

from chalicelib import auth, errors
from chalicelib.domain import changes as ch
from chalicelib.domain import quotas


def test_a_tenant_quota_is_the_operators_setting_or_hawkbits_default(monkeypatch):
    assert quotas.limit("TARGET") == quotas.TENANT_QUOTAS["TARGET"]
    monkeypatch.setenv("SKYHAWK_QUOTA_TARGET", "3")
    assert quotas.limit("TARGET") == 3


def test_the_usage_counter_must_leave_room_for_what_is_added():
    assert quotas.room(10, 3) == ch.Missing("value") | ch.le("value", 7)
    refusal = quotas.exceeded("LOCAL_USER", 2)
    assert isinstance(refusal, errors.QuotaExceeded) and refusal.status == 403
    assert refusal.message == "Quota exceeded: Cannot create more LOCAL_USER entities. The maximum is 2."


def test_creates_that_cannot_fit_are_refused_early():
    quotas.check_create(2, 5, "more distribution sets", used=3)
    with pytest.raises(errors.QuotaExceeded) as refused:
        quotas.check_create(3, 5, "more distribution sets", used=3)
    assert refused.value.message == "Quota exceeded: Cannot create 3 more distribution sets. The maximum is 5."
    assert refused.value.code == "hawkbit.server.error.quota.tooManyEntries"


def test_finer_quotas_speak_hawkbits_assignment_message():
    quotas.check_assign(1, 1999, 2000, "Action entities", "Target 'dev-1'")
    quotas.check_assign(0, 3000, 2000, "Action entities", "Target 'dev-1'")  # nothing added: nothing refused
    with pytest.raises(errors.QuotaExceeded) as refused:
        quotas.check_assign(1, 2000, 2000, "Action entities", "Target 'dev-1'", args=["dev-1"])
    assert refused.value.message == ("Quota exceeded: Cannot assign 1 more Action entities to Target 'dev-1'. "
                                     "The maximum is 2000.")
    assert refused.value.parameters == ["dev-1"]
    with pytest.raises(errors.QuotaExceeded) as refused:
        quotas.check_assign(101, 0, 100, "SoftwareModule entities", "DistributionSet", more=False)
    assert "Cannot assign 101 SoftwareModule entities to DistributionSet." in refused.value.message


def test_storage_and_file_size_have_their_own_codes():
    with pytest.raises(errors.StorageQuotaExceeded) as refused:
        quotas.check_storage(8, 3, 10)
    assert refused.value.code == "hawkbit.server.error.quota.storageExceeded" and refused.value.status == 403
    with pytest.raises(errors.FileSizeQuotaExceeded):
        quotas.check_artifact_size("big.bin", quotas.MAX_ARTIFACT_SIZE + 1)
    with pytest.raises(errors.QuotaExceeded):
        quotas.check_messages(quotas.MAX_MESSAGES_PER_ACTION_STATUS + 1)


def test_metadata_may_not_grow_past_its_bytes_but_may_shrink():
    big = {f"k{i}": {"value": "x" * 4000} for i in range(40)}
    with pytest.raises(errors.QuotaExceeded):
        quotas.check_metadata_bytes(big, {}, "SoftwareModule", 1)
    quotas.check_metadata_bytes(dict(list(big.items())[:39]), big, "SoftwareModule", 1)


def test_a_user_is_locked_for_the_rest_of_the_window_after_too_many_failures():
    assert auth.login_locked_until(3, 1_000, limit=3, window_ms=60_000) == 61_000
    assert auth.login_locked_until(2, 1_000, limit=3, window_ms=60_000) == 0
    assert auth.login_locked_until(9, 1_000, limit=0, window_ms=60_000) == 0  # no lockout configured
    assert auth.login_locked_until(None, None, limit=3, window_ms=60_000) == 0


def test_nobody_grants_what_they_do_not_hold():
    who = auth.Principal("DEFAULT", "ops", frozenset({"USER_ADMIN", "READ_TARGET"}))
    who.may_grant({"READ_TARGET"})
    with pytest.raises(errors.InsufficientPermission) as refused:
        who.may_grant({"READ_TARGET", "SYSTEM_ADMIN", "DELETE_TARGET"})
    assert refused.value.parameters == ["DELETE_TARGET", "SYSTEM_ADMIN"]


def test_a_bearer_credential_names_its_tenant_or_the_default_one():
    assert auth.tenant_and_token("acme\\tok") == ("ACME", "tok")
    assert auth.tenant_and_token("tok") == ("DEFAULT", "tok")
    assert auth.tenant_and_token("a b\\tok") == ("DEFAULT", "a b\\tok")  # not a tenant name: all token


def test_only_a_gateway_token_or_the_proxy_vouches_for_a_device_without_a_target():
    cfg = {"authentication.gatewaytoken.enabled": True, "authentication.gatewaytoken.key": "gw",
           "authentication.targettoken.enabled": True}
    assert auth.vouched_for(cfg, {"Authorization": "GatewayToken gw"}, "dev-1")
    assert not auth.vouched_for(cfg, {"Authorization": "GatewayToken other"}, "dev-1")
    assert not auth.vouched_for(cfg, {"Authorization": "TargetToken gw"}, "dev-1")


def test_secrets_need_their_own_read_permission():
    reader = auth.Principal("DEFAULT", "ops", frozenset({"READ_TENANT_CONFIGURATION", "READ_TARGET"}))
    assert reader.may_read_config("pollingTime") and not reader.may_read_config("authentication.gatewaytoken.key")
    with pytest.raises(errors.InsufficientPermission):
        reader.require_config_read("authentication.gatewaytoken.key")
    assert not reader.may_read_target_tokens
    keeper = auth.Principal("DEFAULT", "k", frozenset({"READ_GATEWAY_SECURITY_TOKEN", "READ_TARGET_SECURITY_TOKEN"}))
    keeper.require_config_read("authentication.gatewaytoken.key")
    assert keeper.may_read_config("authentication.gatewaytoken.key") and keeper.may_read_target_tokens


def test_a_user_needs_no_permission_for_its_own_account():
    alice = auth.Principal("DEFAULT", "alice", frozenset())
    alice.require_unless_self("alice", "USER_ADMIN")
    with pytest.raises(errors.InsufficientPermission):
        alice.require_unless_self("bob", "USER_ADMIN")
