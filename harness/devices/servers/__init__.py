"""Reference SE server clusters, the device side: Simple Metering, Time, Price, DRLC and Messaging servers.

Each module holds one server cluster as a component a device model composes (a list of server classes on its SE
endpoint, harness/devices/servers/host.py): the meter (harness/devices/meter.py) carries the Metering server, the
ESI (harness/devices/esi.py) the ESI's servers and a Metering server; another model takes any of them by listing
them. They are written apart from the golden's ESI and meter (harness/golden/esi, harness/golden/meter.py): the
two sides share the frame codecs (harness/zcl, harness/se) and the data model, never logic, so a bug cannot hide
by being on both sides.
"""

from __future__ import annotations

from .base import ServerCluster, ServerHost

__all__ = ["ServerCluster", "ServerHost"]
