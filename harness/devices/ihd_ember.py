"""The reference In-Home Display on an EmberZNet-like stack (``--dut sim:ihd-ember``).

The most common Smart Energy stack, Silicon Labs EmberZNet, does not drop an SE application command that
arrives without APS security silently: its application framework answers it with a Default Response, itself
sent without APS security, and does not process it (gecko_sdk protocol/zigbee/app/framework/util/util.c,
emberAfProcessMessage: "Drop clus ... due to no aps security"; FAILURE in SE builds and older releases,
NOT_AUTHORIZED in newer ones and with WWAH). That is not acting on the command, so this variant must pass the
whole suite: it is the reference that keeps the suite from failing a conformant EmberZNet device (TC-KE-3.3).
It answers NOT_AUTHORIZED; otherwise it is the reference IHD, and the IHD's catalogue seeds the faults they
share. Its own catalogue holds the refusal gone wrong.
"""

from __future__ import annotations

from zigpy.zcl.foundation import Status

from harness.zcl.security import InsecureFrameAction, SecurityPolicy

from .application_faults import catalogue
from .faults import Behaviour, Fault
from .ihd import InHomeDisplay

#: A Default Response SUCCESS says the command was carried out: acting on it (ZCL 2.5.12: SUCCESS reports the
#: command's outcome), which a command without its APS security must not get.
REFUSES_WITH_SUCCESS = Fault(
    "answers-unprotected-with-success", "answers an SE command that arrives without APS security with a Default "
    "Response SUCCESS instead of NOT_AUTHORIZED", ("TC-KE-3.3[no APS security]",), Behaviour())


class EmberInHomeDisplay(InHomeDisplay):
    model = "ihd-ember"
    faults_catalogue = catalogue([REFUSES_WITH_SUCCESS])

    def __init__(self, air, profile, clock, faults: tuple[str, ...] = (), *, rng=None) -> None:
        super().__init__(air, profile, clock, faults, rng=rng)
        status = Status.SUCCESS if self.faults.has(REFUSES_WITH_SUCCESS) else Status.NOT_AUTHORIZED
        self.engine.security = SecurityPolicy(on_missing=InsecureFrameAction.REFUSE, refusal_status=status)
