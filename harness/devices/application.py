"""Reference devices that run Smart Energy application clients: the composition shared by the PCT, the Load
Control Device, the Smart Appliance and the IHD.

Every such device keeps its network time in a Time client and, once it is on the network (joined or
rejoined), takes the time from the ESI and then runs its model's start-up requests (Get Scheduled Events,
Get Current Price, Get Last Message). The ESI is the Trust Center's SE endpoint (SE 1.x: the ESI is the
coordinator and Trust Center of the HAN; the golden plays both).

User actions (opt out of / back into an event, confirm a message) are what the DUT control asks of a person
or a vendor CLI; here they call the clients directly.

Seeded faults (harness/devices/application_faults.py) are either client settings (a field of a client's
``faults`` dataclass, derived from the faults chosen) or behaviours this module implements around the clients,
where it asks ``faults.has(FAULT)``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from zigpy.zcl.foundation import ReadAttributeRecord, Status

from harness.clock import ZCL_EPOCH
from harness.crypto import AuthenticationError
from harness.devices.clients import (
    DrlcClient,
    DrlcClientFaults,
    MessagingClient,
    MessagingClientFaults,
    Peer,
    PriceClient,
    PriceClientFaults,
    TimeClient,
    TimeClientFaults,
    TimeSyncError,
)
from harness.se.clusters import Basic, KeyEstablishment
from harness.se.datamodel import Side
from harness.se.types import (
    BLOCK_THRESHOLDS_UNUSED,
    DEVICE_CLASS_DEFINED_BITS,
    EVENT_CONTROL_DEFINED_BITS,
    EventStatus,
)
from harness.sim.node import NodeError
from harness.wire.security import unsecure_aps
from harness.zcl import (
    AttributeKey,
    AttributeStore,
    FindingKind,
    InsecureFrameAction,
    SecurityPolicy,
    ZclError,
    ZclRequest,
)

from .application_faults import (
    ACTS_ON_RESERVED_CRITICALITY,
    ACTS_ON_UNPROTECTED_SE_COMMANDS,
    APPLIES_RESERVED_CONTROLS,
    BASIC_POWER_SOURCE_UINT8,
    CLAMPS_OVERSIZED_DURATION,
    CONFIRMS_UNASKED,
    DESCRIPTOR_OMITS_KEY_ESTABLISHMENT,
    GET_SCHEDULED_EVENTS_ONLY_ON_REJOIN,
    IGNORES_CANCEL_MESSAGE,
    IGNORES_OPT_OUT,
    IGNORES_UTILITY_DEFINED_CRITICALITY,
    KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE,
    KE_CLIENT_SUITE_MISSING,
    KE_SERVER_SUITE_MISSING,
    LAST_PRICE_WINS,
    NEVER_READS_TIME,
    NO_COMPLETION_REPORT,
    NO_GET_CURRENT_PRICE,
    NO_GET_LAST_MESSAGE,
    NO_GET_SCHEDULED_EVENTS,
    NO_GET_SCHEDULED_PRICES,
    NO_REPORT_EVENT_STATUS,
    REFUSES_BLOCK_PRICE,
    REJECTS_LONGEST_DURATION,
    REJECTS_RESERVED_BITS,
    SIGNS_WITH_TYPE_BYTE,
    SILENT_OPT_IN,
    START_NOW_TAKEN_LITERALLY,
    STORES_DUPLICATE_PRICE,
    TAKES_INVALID_START_TIME,
    UNSUPPORTED_ATTRIBUTE_FAILURE,
    ZCL_VERSION_WRITABLE,
)
from .base import ReferenceDevice, replace_model
from .faults import FaultSet

LOGGER = logging.getLogger(__name__)

#: The golden ESI: the coordinator (NWK 0x0000), SE endpoint 1.
ESI = Peer(0x0000, 1)
#: Seconds a start-up request waits for the ESI's answer.
STARTUP_TIMEOUT = 5.0
#: How often the device takes the ESI's time again (its profiles' PIXIT time_resync_period says so).
TIME_RESYNC_PERIOD = 3600.0
#: The PICS item of a Price client that sends Get Scheduled Prices (it does after Get Current Price).
GET_SCHEDULED_PRICES_CLAIM = "SE.PRICE.C.C01.Tx"
#: PICS option of a device that shows local time (it reads the ESI's TimeZone and DST attributes).
LOCAL_TIME_OPTION = "SE.TIME.C.LOCAL"
#: ZCL UTCTime 1 (2000-01-01T00:00:01Z): what a device that takes StartTime 0 literally schedules.
EPOCH_START = 1
#: The largest event duration a device that clamps instead of rejecting keeps (SE-FACTS: max 1440 minutes).
MAX_DURATION_MINUTES = 1440
#: ZCL UTCTime 0xFFFFFFFF (invalid), and the time a device that takes it for a time schedules instead.
INVALID_UTC, LAST_UTC = 0xFFFFFFFF, 0xFFFFFFFE
#: The utility-defined criticality levels (SE 1.x Annex D.2.2, Criticality Level table).
UTILITY_DEFINED_LEVELS = range(0x0A, 0x10)


class FaultyStore(AttributeStore):
    """An attribute store whose reads can answer an unsupported attribute with FAILURE (a seeded fault)."""

    def __init__(self, faults: FaultSet) -> None:
        super().__init__()
        self._unsupported_notes: list[Callable[[], None]] = []
        self._unsupported_as_failure = faults.acts(UNSUPPORTED_ATTRIBUTE_FAILURE, self._unsupported_notes.append)

    def read_record(self, key: AttributeKey) -> ReadAttributeRecord:
        record = super().read_record(key)
        if record.status == Status.UNSUPPORTED_ATTRIBUTE:
            for note in self._unsupported_notes:  # where the fault would act (a recording run)
                note()
            if self._unsupported_as_failure:
                return ReadAttributeRecord(attrid=key.attr_id, status=Status.FAILURE)
        return record


class FaultyDrlcClient(DrlcClient):
    """The DRLC client with the device-level faults the client library does not seed."""

    def __init__(self, *args: Any, device_faults: FaultSet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device_faults = device_faults if device_faults is not None else FaultSet()

    def _silence(self, request: ZclRequest) -> None:
        if self.device_faults.has(NO_REPORT_EVENT_STATUS):
            async def swallow(*_args: Any, **_kwargs: Any) -> None:
                request.responded = True  # nothing goes out, not even a Default Response

            request.respond = swallow  # type: ignore[method-assign]

    async def _on_cancel(self, request: ZclRequest) -> Status | None:
        self._silence(request)
        return await super()._on_cancel(request)

    async def _on_load_control_event(self, request: ZclRequest) -> Status | None:
        self._silence(request)
        event = request.command
        if self.device_faults.has(START_NOW_TAKEN_LITERALLY) and int(event.start_time) == 0:
            request.command = event = event.replace(start_time=EPOCH_START)
        if self.device_faults.has(CLAMPS_OVERSIZED_DURATION) and int(event.duration_in_minutes) > MAX_DURATION_MINUTES:
            request.command = event = event.replace(duration_in_minutes=MAX_DURATION_MINUTES)
        if self.device_faults.has(REJECTS_LONGEST_DURATION) and int(event.duration_in_minutes) == MAX_DURATION_MINUTES:
            request.command = event = event.replace(duration_in_minutes=MAX_DURATION_MINUTES + 1)
        if self.device_faults.has(TAKES_INVALID_START_TIME) and int(event.start_time) == INVALID_UTC:
            request.command = event = event.replace(start_time=LAST_UTC)
        reserved_bits = (int(event.device_class) & ~DEVICE_CLASS_DEFINED_BITS
                         or int(event.event_control) & ~EVENT_CONTROL_DEFINED_BITS)
        if self.device_faults.has(REJECTS_RESERVED_BITS) and reserved_bits:
            # A strict validator: takes the reserved bits for an invalid event (rejected as one too long is).
            request.command = event = event.replace(duration_in_minutes=MAX_DURATION_MINUTES + 1)
        if (self.device_faults.has(IGNORES_UTILITY_DEFINED_CRITICALITY)
                and int(event.criticality_level) in UTILITY_DEFINED_LEVELS):
            return Status.SUCCESS
        return await super()._on_load_control_event(request)

    def _defined_criticality(self, level: int) -> bool:
        return self.device_faults.has(ACTS_ON_RESERVED_CRITICALITY) or super()._defined_criticality(level)

    def _reserved_controls(self, event) -> bool:
        # Neither checks nor clamps the controls: schedules the event and echoes them as applied.
        return not self.device_faults.has(APPLIES_RESERVED_CONTROLS) and super()._reserved_controls(event)

    async def _send_report(self, entry, status: EventStatus) -> None:
        if self.device_faults.has(NO_COMPLETION_REPORT) and status == EventStatus.Event_Completed:
            return
        if self.device_faults.has(NO_REPORT_EVENT_STATUS):
            return
        await super()._send_report(entry, status)

    def opt_out(self, event_id: int) -> bool:
        if self.device_faults.has(IGNORES_OPT_OUT):
            return any(e.active and e.issuer_event_id == event_id for e in self.entries)
        return super().opt_out(event_id)

    def opt_in(self, event_id: int) -> bool:
        if self.device_faults.has(SILENT_OPT_IN):
            entry = next((e for e in self.entries if e.active and e.issuer_event_id == event_id), None)
            if entry is not None:
                entry.opted_in = True  # participates again but never says so
            return entry is not None
        return super().opt_in(event_id)


class FaultyPriceClient(PriceClient):
    """The Price client with the device-level faults the client library does not seed."""

    def __init__(self, *args: Any, device_faults: FaultSet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device_faults = device_faults if device_faults is not None else FaultSet()

    def _store(self, publish: Any, esi: Peer) -> Status:
        event_id = int(publish.issuer_event_id)
        thresholds = publish.number_of_block_thresholds
        if (self.device_faults.has(REFUSES_BLOCK_PRICE) and thresholds is not None
                and int(thresholds) != BLOCK_THRESHOLDS_UNUSED):
            return Status.FAILURE
        if self.device_faults.has(STORES_DUPLICATE_PRICE):
            self.prices = [p for p in self.prices if p.issuer_event_id != event_id]
        if self.device_faults.has(LAST_PRICE_WINS) and not any(p.issuer_event_id == event_id for p in self.prices):
            # Drops every other price instead of refusing one older than a price it overlaps.
            self.prices = []
        return super()._store(publish, esi)


class FaultyMessagingClient(MessagingClient):
    """The Messaging client with the device-level faults the client library does not seed."""

    def __init__(self, *args: Any, device_faults: FaultSet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device_faults = device_faults if device_faults is not None else FaultSet()

    def _on_cancel(self, request: ZclRequest) -> Status:
        if self.device_faults.has(IGNORES_CANCEL_MESSAGE):
            return Status.SUCCESS
        return super()._on_cancel(request)

    async def confirm_message(self, message_id: int) -> bool:
        shown = self.message
        if (self.device_faults.has(CONFIRMS_UNASKED) and shown is not None and shown.message_id == message_id
                and not shown.confirmation_required):
            shown.display = shown.display.replace(message_control=int(shown.display.message_control) | 0x80)
        return await super().confirm_message(message_id)


class ApplicationDevice(ReferenceDevice):
    """A reference device whose SE application clients start once it is on the network."""

    #: DRLC client attributes: DeviceClassValue and UtilityEnrollmentGroup of this model.
    device_class: ClassVar[int] = 0x0000
    #: Seed of the DRLC client's randomization (a fixed seed keeps runs reproducible).
    drlc_seed: ClassVar[int] = 0x5E

    def __init__(self, air, profile, clock, faults: tuple[str, ...] = (), *, rng=None) -> None:
        super().__init__(air, profile, clock, faults, rng=rng)
        #: Whether the device is on the network by a rejoin (else by joining afresh).
        self.rejoined = False
        self._create_clients()
        insecure_notes: list[Callable[[], None]] = []
        if self.faults.acts(ACTS_ON_UNPROTECTED_SE_COMMANDS, insecure_notes.append):
            # Processes application commands that arrive without APS security (a conformant device drops them).
            self.engine.security = SecurityPolicy(on_missing=InsecureFrameAction.FLAG)
        elif insecure_notes:  # a recording run: the fault would act on each frame that lacks APS security
            note = insecure_notes[0]
            self.engine.on_finding(lambda finding: finding.kind is FindingKind.MISSING_APS_SECURITY and note())
        unsecure_notes: list[Callable[[], None]] = []
        if self.faults.acts(KE_ACCEPTS_INSTALL_CODE_KEY_AFTER_CBKE, unsecure_notes.append):
            self.node._aps_unsecure = self._also_install_code_key(self.node._aps_unsecure)
        elif unsecure_notes:  # a recording run: the fault would act on each frame the link keys do not open
            opened_by_none = unsecure_notes[0]
            self.node.on_count(lambda event: event == "aps_auth_failed" and opened_by_none())

    def _also_install_code_key(self, unsecure):
        """The node's APS unsecuring, falling back to the install-code key once the CBKE key failed (a fault)."""

        def lenient(data: bytes, source_ieee: int | None, *rest):
            frame, key_id = unsecure(data, source_ieee, *rest)
            if frame is not None:
                return frame, key_id
            try:
                frame, aux = unsecure_aps(data, self.link_key, source_ieee)
            except AuthenticationError:
                return None, None
            return frame, aux.key_id

        return lenient

    # -- composition ----------------------------------------------------------------------------------

    def shown_local_time(self) -> datetime | None:
        """The local date and time the display shows (DutControl.read_local_time): None unless the device
        shows local time and has learnt the ESI's time zone."""
        local = self.time.local() if self.time.local_time else None
        return None if local is None else ZCL_EPOCH.replace(tzinfo=None) + timedelta(seconds=local)

    def shown_price(self) -> tuple[int, int | None, int | None] | None:
        """The price the display shows as current (DutControl.read_current_price): the device's network time,
        then the IssuerEventID and Price of its current price (None, None while it has none); None for a device
        without a Price client."""
        if self.price is None:
            return None
        now = self.time.utc()
        current = self.price.current_price(now)
        if current is None:
            return now, None, None
        return now, current.issuer_event_id, int(current.publish.price)

    def _create_clients(self) -> None:
        """The Time client and the model's application clients, as from the factory."""
        self.time = TimeClient(self.engine, self.clock, endpoint=self.endpoint,
                               local_time=bool(self.profile.pics.get(LOCAL_TIME_OPTION, False)),
                               faults=self.faults.settings(TimeClientFaults))
        self.drlc: DrlcClient | None = None
        self.price: PriceClient | None = None
        self.messaging: MessagingClient | None = None
        self.compose_clients()

    def _close_clients(self) -> None:
        self.time.close()
        for client in (self.drlc, self.messaging):
            if client is not None:
                client.close()

    def compose_clients(self) -> None:
        """Create the model's clients on `self.engine` (overridden by models)."""

    def add_drlc_client(self) -> DrlcClient:
        signs = bool(self.profile.pics.get("SE.DRLC.C.SIGN", False))
        self.drlc = FaultyDrlcClient(
            self.engine, self.time, endpoint=self.endpoint, device_class=self.device_class,
            seed=self.seed_for("drlc", self.drlc_seed),
            faults=self.faults.settings(DrlcClientFaults), device_faults=self.faults,
            signer=self._sign_report if signs else None,
        )
        return self.drlc

    def _sign_report(self, signed_part: bytes) -> bytes:
        """ECDSA over a Report Event Status with the device's suite-1 key (its PICS claim SE.DRLC.C.SIGN)."""
        if self.faults.has(SIGNS_WITH_TYPE_BYTE):
            signed_part += b"\x01"  # covers the SignatureType byte too: no verifier agrees
        if self.ke_engine is None or 1 not in self.ke_engine.suites:
            LOGGER.warning("reference %s claims SE.DRLC.C.SIGN but holds no suite-1 key", self.model)
            return b"\xff" * 42
        return self.ke_engine.sign(signed_part)

    def add_price_client(self) -> PriceClient:
        self.price = FaultyPriceClient(self.engine, self.time, endpoint=self.endpoint,
                                       faults=self.faults.settings(PriceClientFaults), device_faults=self.faults)
        return self.price

    def add_messaging_client(self) -> MessagingClient:
        # confirm_after=None: only the user's action (DUT control) confirms a message.
        self.messaging = FaultyMessagingClient(self.engine, self.time, endpoint=self.endpoint, confirm_after=None,
                                               faults=self.faults.settings(MessagingClientFaults),
                                               device_faults=self.faults)
        return self.messaging

    def empty_store(self) -> AttributeStore:
        return FaultyStore(self.faults)

    def build_store(self) -> AttributeStore:
        """The attribute table, with the attribute-table faults the application devices share
        (application_faults.ATTRIBUTES)."""
        store = super().build_store()
        ep = self.endpoint
        power_source = AttributeKey(ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.power_source.id)
        if self.faults.acts(BASIC_POWER_SOURCE_UINT8, functools.partial(store.watch, power_source)):
            replace_model(store, ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.power_source.id, type="INT8U")
        suite = KeyEstablishment.AttributeDefs.key_establishment_suite.id
        server_suite = AttributeKey(ep, KeyEstablishment.cluster_id, Side.SERVER, suite)
        if self.faults.acts(KE_SERVER_SUITE_MISSING, functools.partial(store.watch, server_suite)):
            store.remove_attribute(server_suite)
        client_suite = AttributeKey(ep, KeyEstablishment.cluster_id, Side.CLIENT, suite)
        if self.faults.acts(KE_CLIENT_SUITE_MISSING, functools.partial(store.watch, client_suite)):
            store.remove_attribute(client_suite)
        zcl_version = AttributeKey(ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.zcl_version.id)
        if self.faults.acts(ZCL_VERSION_WRITABLE, functools.partial(store.watch, zcl_version)):
            replace_model(store, ep, Basic.cluster_id, Side.SERVER, Basic.AttributeDefs.zcl_version.id, writable=True)
        return store

    def simple_descriptor(self):
        descriptor = super().simple_descriptor()
        if self.faults.has(DESCRIPTOR_OMITS_KEY_ESTABLISHMENT):
            descriptor.input_clusters = [c for c in descriptor.input_clusters if c != KeyEstablishment.cluster_id]
        return descriptor

    # -- on the network ---------------------------------------------------------------------------------

    async def _join(self, deadline: float) -> None:
        self.rejoined = False
        await super()._join(deadline)
        if self.join_error is None and self.node.joined:
            await self.start_applications()

    async def _rejoin(self, deadline: float) -> None:
        self.rejoined = True  # the start-up requests after it follow a rejoin, not a first join
        await super()._rejoin(deadline)
        if self.node.joined:
            await self.start_applications()

    async def start_applications(self) -> None:
        """Take the network time from the ESI, then run the model's start-up requests."""
        if not self.faults.has(NEVER_READS_TIME):
            try:
                await self.time.synchronize(ESI, timeout=STARTUP_TIMEOUT)
            except (ZclError, TimeSyncError, NodeError) as exc:
                LOGGER.info("reference %s could not take the time from the ESI: %s", self.model, exc)
            self.time.start_resync(ESI, TIME_RESYNC_PERIOD, timeout=STARTUP_TIMEOUT, on_error=self._resync_failed)
        try:
            await self.startup_requests()
        except (ZclError, NodeError) as exc:
            # A device on a real network carries on when the ESI does not answer (or an APS delivery fails,
            # e.g. the bench tore the network down mid-request); the cases judge what it did send.
            LOGGER.info("reference %s start-up request failed: %s", self.model, exc)

    def _resync_failed(self, exc: Exception) -> None:
        LOGGER.info("reference %s could not take the time from the ESI again: %s", self.model, exc)

    async def startup_requests(self) -> None:
        first_join_skipped = self.faults.has(GET_SCHEDULED_EVENTS_ONLY_ON_REJOIN) and not self.rejoined
        if self.drlc is not None and not self.faults.has(NO_GET_SCHEDULED_EVENTS) and not first_join_skipped:
            await self.drlc.get_scheduled_events(ESI, timeout=STARTUP_TIMEOUT)
        if self.price is not None and not self.faults.has(NO_GET_CURRENT_PRICE):
            await self.price.get_current_price(ESI, timeout=STARTUP_TIMEOUT)
        if (self.price is not None and self.profile.pics.get(GET_SCHEDULED_PRICES_CLAIM, False)
                and not self.faults.has(NO_GET_SCHEDULED_PRICES)):
            await self.price.get_scheduled_prices(ESI, timeout=STARTUP_TIMEOUT)
        if self.messaging is not None and not self.faults.has(NO_GET_LAST_MESSAGE):
            await self.messaging.get_last_message(ESI, timeout=STARTUP_TIMEOUT)

    # -- user actions -----------------------------------------------------------------------------------

    def opt_out(self, event_id: int) -> bool:
        """The user opts out of a load control event; False when the device shows no such event."""
        return self._drlc().opt_out(event_id)

    def opt_in(self, event_id: int) -> bool:
        """The user opts back into a load control event; False when the device shows no such event."""
        return self._drlc().opt_in(event_id)

    async def confirm_message(self, message_id: int) -> bool:
        """The user confirms the message on the display; True when a Message Confirmation went out."""
        if self.messaging is None:
            raise UnsupportedUserAction(f"sim:{self.model} has no Messaging client to confirm a message on")
        return await self.messaging.confirm_message(message_id)

    def _drlc(self) -> DrlcClient:
        if self.drlc is None:
            raise UnsupportedUserAction(f"sim:{self.model} has no DRLC client to opt out of or into an event")
        return self.drlc

    def factory_reset(self) -> None:
        super().factory_reset()
        # The applications forget what they held too (network time, events, prices, messages, DRLC client
        # attributes): behind the NCP emulator the reference device lives on from scenario to scenario, as a
        # real DUT does, and a price kept from the last scenario would make it refuse the next one's.
        self._close_clients()
        self._create_clients()

    def close(self) -> None:
        self._close_clients()
        super().close()


class UnsupportedUserAction(RuntimeError):
    """A user action was asked of a reference device that has no client for it."""
