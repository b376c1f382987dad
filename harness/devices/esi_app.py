"""A temporary reference ESI application (SE device id 0x0500) that JOINS the golden's network: the ESI's
Time, Price, DRLC and Messaging servers (harness/devices/servers) on its SE endpoint, so the ESI server cases
(features/esi) run before the ESI that forms its own network (sim:esi) carries them.

Its operator actions (DUT control publish_price, issue_event, display_message) call its servers, as an ESI's head
end would. Its catalogue seeds the ESI servers' faults (harness/devices/server_faults.py ESI_SERVERS).

To move the servers into another model: list TimeServer, PriceServer, DrlcServer and MessagingServer in its
``servers`` (a ServerDevice, harness/devices/servers/host.py), their clusters in ``clusters``, return a LiveStore
from ``empty_store`` (the Time server serves its clock at each read), copy the three operator methods below, and
add ESI_SERVERS to its ``faults_catalogue``.
"""

from __future__ import annotations

from typing import TypeVar

from harness.se.clusters import Basic, Drlc, KeyEstablishment, Messaging, Price, Time
from harness.se.datamodel import Side, load_datamodel
from harness.se.types import TimeStatus
from harness.zcl.store import AttributeStore

from .server_faults import ESI_SERVERS, catalogue
from .servers.base import LiveStore, ServerCluster
from .servers.drlc import DrlcServer
from .servers.host import ServerDevice
from .servers.messaging import MessagingServer
from .servers.price import PriceServer
from .servers.time import TimeServer

S = TypeVar("S", bound=ServerCluster)


class EsiApplication(ServerDevice):
    model = "esi-app"
    device_id = load_datamodel().device_type("SE-ESP").device_id
    clusters = (
        (Basic.cluster_id, Side.SERVER), (KeyEstablishment.cluster_id, Side.SERVER),
        (KeyEstablishment.cluster_id, Side.CLIENT), (Time.cluster_id, Side.SERVER), (Price.cluster_id, Side.SERVER),
        (Drlc.cluster_id, Side.SERVER), (Messaging.cluster_id, Side.SERVER),
    )
    servers = (TimeServer, PriceServer, DrlcServer, MessagingServer)
    faults_catalogue = catalogue(ESI_SERVERS)

    def empty_store(self) -> AttributeStore:
        return LiveStore()

    def build_store(self) -> AttributeStore:
        store = super().build_store()
        # TimeStatus as the profile claims it (PICS options SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST).
        pics = self.profile.pics
        status = ((TimeStatus.Master if pics.get("SE.TIME.S.MASTER") else 0)
                  | (TimeStatus.Synchronized if pics.get("SE.TIME.S.SYNCHRONIZED") else 0)
                  | (TimeStatus.MasterZoneDst if pics.get("SE.TIME.S.MASTERZONEDST") else 0))
        self.server(TimeServer).status = status
        return store

    def server(self, cls: type[S]) -> S:
        return next(s for s in self.server_clusters if isinstance(s, cls))

    # -- the operator's actions at the head end (DUT control) -------------------------------------------------

    def publish_price(self) -> int:
        return self.server(PriceServer).publish_price().issuer_event_id

    def issue_event(self) -> int:
        return self.server(DrlcServer).issue_event().issuer_event_id

    def display_message(self) -> int:
        return self.server(MessagingServer).display_message().message_id
