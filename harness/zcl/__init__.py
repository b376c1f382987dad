"""ZCL engine on raw packets: frames, attribute store, server dispatch, client requests, reporting,
security policy and findings. Usable by the golden ESI and by reference devices alike."""

from harness.zcl.engine import ZclEngine, ZclRequest, report_reporting_config
from harness.zcl.errors import Finding, FindingKind, MalformedFrame, ZclError, ZclStatusError, ZclTimeout
from harness.zcl.security import SE_SECURITY_POLICY, InsecureFrameAction, SecurityPolicy
from harness.zcl.store import AttributeKey, AttributeStore

__all__ = [
    "SE_SECURITY_POLICY",
    "AttributeKey",
    "AttributeStore",
    "Finding",
    "FindingKind",
    "InsecureFrameAction",
    "MalformedFrame",
    "SecurityPolicy",
    "ZclEngine",
    "ZclError",
    "ZclRequest",
    "ZclStatusError",
    "ZclTimeout",
    "report_reporting_config",
]
