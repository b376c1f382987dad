"""One scenario's network, what the steps drive and observe, and the bench's errors while it runs.

A backend (harness/backends) builds a :class:`Testbed` for each scenario and the :class:`~harness.bench.Bench`
front hands it to the steps. What the testbed knows of its scenario is typed fields: the DUT's addresses and
admission, its CBKE, the step being run, a real bench's live capture and probe sender. ``notes`` is the steps'
own scratch; the harness never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.errors import BenchFault
from harness.rng import CaseRandom
from harness.verify import Keyring, ObservedFrame, decode_frames

if TYPE_CHECKING:  # types of fields only
    from harness.capture.live import LivePcap
    from harness.devices.base import ReferenceDevice
    from harness.dut.base import DutControl
    from harness.golden.golden import Golden
    from harness.golden.trust_center import JoinEvent
    from harness.ke.events import KeEvent
    from harness.ke.state_machine import KeyEstablishment
    from harness.sim.air import Air

#: The testbed name of the once-per-run reading of the DUT's Basic identity (harness/pytest_plugin/fixtures.py).
IDENTIFICATION = "identify-dut"


class BenchError(BenchFault, RuntimeError):
    """The bench itself failed (radio, serial, configuration): an error verdict, never a DUT failure."""

    retryable = True


class BenchWatch(Protocol):
    """A real bench's health, asked through the testbed (the hardware backend is one): the steps never see it."""

    def capture_fault(self, testbed: Testbed) -> BenchFault | None:
        """Read the live capture's new frames into *testbed.frames*; the fault when it is not the live capture."""
        ...

    def health(self, testbed: Testbed) -> BenchFault | None:
        """What, if anything, is wrong with the bench now (radio, DUT control port, sniffer)."""
        ...


class ProbeSender(Protocol):
    """The golden's SE probe sender on a real radio (harness/backends/hardware.py: NcpApsSender)."""

    errors: list[str]  # probes that could not go out: the case is a bench error, not "the DUT did not act"


class FrameInjector(Protocol):
    """What the golden radio can put on the air beyond what a Zigbee stack sends: a frame it sent before, again
    (the replay and duplicate cases, TC-JOIN-1.11). In simulation the golden coordinator's radio; a real bench
    needs a radio that transmits raw frames, and without one those cases are bench errors."""

    def replay(self, psdu: bytes) -> None:
        """Transmit *psdu*, a MAC frame captured before, byte for byte (old NWK frame counter included)."""
        ...

    def resend_aps(self, dst_nwk: int, aps_frame: bytes) -> None:
        """Send *aps_frame*, an APS frame as it was on the air (APS security included), again in a fresh
        NWK-secured frame: new NWK sequence number and frame counter, so only the APS layer can tell."""
        ...


class HanDevice(Protocol):
    """One of the golden's HAN devices in a network the DUT formed (its profile's network.role: forms): it joins
    the DUT's network with its install-code link key, rejoins and leaves, and holds what the DUT's Trust Center
    gave it. Simulated nodes, or on a real bench the golden radio joined as a router (harness/radio)."""

    ieee: int
    link_key: bytes  # the preconfigured link key of its install code (a secret: never logged)
    failure: str | None  # why its last join or rejoin did not complete, in the stack's words

    @property
    def nwk(self) -> int | None: ...  # its address while it is on the network

    @property
    def joined(self) -> bool: ...

    @property
    def active_key_seq(self) -> int | None: ...

    def network_keys(self) -> dict[int, bytes]:
        """The network keys it received, by key sequence number."""
        ...

    def commission(self, link_key: bytes) -> None:
        """Use *link_key* as its preconfigured link key from its next join (another install code, or none)."""
        ...

    async def join(self, deadline: float, *, insistent: bool = False) -> bool:
        """Scan, associate, take the network key and announce within *deadline* seconds; False when it did not.
        *insistent*: associate even when the beacons deny joining (a probe of the Trust Center's window; a
        radio whose stack cannot is a bench fault)."""
        ...

    async def rejoin(self, deadline: float, *, trust_center: bool) -> bool:
        """Rejoin: secured with the network key it holds, or (*trust_center*) having lost it, unsecured, for the
        Trust Center to send the key again; False when it did not get back within *deadline* seconds."""
        ...

    async def leave(self) -> None:
        """Leave the network (NWK leave, without rejoin)."""
        ...

    async def factory_reset(self) -> None:
        """Forget the network, its keys and every link key but the preconfigured one, and count the NWK and APS
        frame counters from 0 again, as a new device does (leaving first if it is on a network)."""
        ...


@dataclass
class Testbed:
    """One scenario's network: what the steps drive and what they observe."""

    name: str
    golden: Golden
    dut: DutControl
    dut_ieee: int
    dut_link_key: bytes
    keyring: Keyring
    frames: list[tuple[float, bytes]]
    air: Air | None = None  # the virtual air in simulation
    app: Any = None  # the golden zigpy ControllerApplication (bellows' on a real bench, untyped): library edge
    device: ReferenceDevice | None = None  # the reference DUT in simulation: driven, never inspected
    # The steps' own per-scenario scratch (what one step of a feature leaves for a later step of the same
    # feature: payloads sent, times a step began, answers to judge). It stays a dict because its keys belong to
    # the feature modules and live one scenario; what the harness or several features share is a field below.
    notes: dict[str, Any] = field(default_factory=dict)
    # The case's random state (harness/rng.py): install codes and other choices a step makes come from it.
    random: CaseRandom = field(default_factory=lambda: CaseRandom(0, ""))
    case: str = ""  # the case id the scenario runs (its name when none): bench faults name it
    step: str = ""  # the step being run: what a real bench's progress line names during a long wait

    # -- the DUT on the network, as the steps established it -------------------------------------------------
    dut_nwk: int | None = None  # the DUT's network address once it answered there (joined, rejoined)
    join_event: JoinEvent | None = None  # the Trust Center's admission of the DUT
    ke_completed: KeEvent | None = None  # the golden's record of the CBKE that gave the DUT its link key
    ke_partner: KeyEstablishment | None = None  # a second golden-side node's Key Establishment, once asked for
    #: The golden's HAN devices in a network the DUT formed, by IEEE (empty when the DUT joins the golden's).
    han: dict[int, HanDevice] = field(default_factory=dict)

    # -- what the bench itself keeps of the scenario --------------------------------------------------------
    capture_cut: str | None = None  # why capture.pcap holds fewer frames than the air carried (size limit)
    capture: LivePcap | None = None  # a real bench's live sniffer capture, read whenever the steps look
    capture_grew_at: float | None = None  # time.monotonic() when the live capture last grew
    network_key_changed: bool = False  # a case switched the network key: the bench re-forms its network after
    sender: ProbeSender | None = None  # the golden's SE probe sender on an NCP
    injector: FrameInjector | None = None  # replays the golden's own frames (None: this bench cannot)
    watch: BenchWatch | None = None  # a real bench's health checks

    def __repr__(self) -> str:
        # pytest-bdd hands the testbed to steps, so allure records its repr as a step parameter: the dataclass
        # repr would put the DUT's link key (and every frame) into allure-results. Show no key material.
        return (f"{type(self).__name__}(name={self.name!r}, dut_ieee={self.dut_ieee:016x}, "
                f"frames={len(self.frames)})")

    def pull_frames(self) -> None:
        """On a real bench, take the live capture's new frames in; a capture that stopped growing while frames
        were on the air is a bench error (raised), not an empty observation. Nothing to do in simulation."""
        if self.watch is not None:
            fault = self.watch.capture_fault(self)
            if fault is not None:
                raise fault

    def observed(self) -> list[ObservedFrame]:
        """Everything on the air so far, decoded with the keys the bench knows."""
        self.pull_frames()
        return decode_frames(self.frames, self.keyring)

    def bench_fault(self) -> BenchFault | None:
        """What is wrong with the bench now, asked when a case failed the DUT (harness/pytest_plugin/outcomes.py):
        a failure the bench caused becomes the bench's error. Always None in simulation."""
        return self.watch.health(self) if self.watch is not None else None
