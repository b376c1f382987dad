"""DUT and bench profiles (profiles/dut/*.yaml, profiles/bench/*.yaml) validated with pydantic v2.

A bad profile stops the run with ONE line naming the file, the field path and the fix, e.g.
`profiles/dut/x.yaml: pics.SE.DRLC.C: expected true/false, got 'yes please'`. Secrets (install code,
network key, test-CA private key) are pydantic SecretStr: redacted in reprs and logs, and an error about one
names its field and the expected length, never the value. Schema: docs/profiles.md.

A DUT profile claims the mandatory PICS items of its device type (harness.pics: one set false is refused, one
left out is claimed) and keeps its PIXITs inside their bounds (harness.pixits).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from harness import pixits
from harness.crypto.errors import InstallCodeError
from harness.crypto.install_code import InstallCode
from harness.pics import (
    ClaimError,
    PicsError,
    check_claims,
    check_key,
    resolve_device_type,
    role_claims,
    with_mandatory,
)
from harness.pixits import UNITS
from harness.se.datamodel import DeviceTypeModel


class ProfileError(ValueError):
    """A profile file is missing, unreadable or invalid; the message is one line."""


# --- field types --------------------------------------------------------------------------------------


class Pixit(BaseModel):
    """A PIXIT value with its unit, e.g. `30 s`; `.seconds` converts durations."""

    model_config = ConfigDict(frozen=True)
    value: float
    unit: str = ""

    @property
    def seconds(self) -> float:
        factor = UNITS.get(self.unit)
        if factor is None:
            raise ValueError(f"PIXIT {self.value:g} {self.unit} is not a duration")
        return self.value * factor

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}".strip()


def _pixit(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number with a unit such as '30 s', got {value!r}")
    if isinstance(value, int | float):
        return {"value": value, "unit": ""}
    if isinstance(value, str):
        number, unit = pixits.split(value)
        return {"value": number, "unit": unit}
    return value


def parse_pixit(text: str) -> Pixit:
    """A PIXIT given as text (`30 s`, `2min`, `6 count`; a bare number is seconds); ValueError says what is wrong."""
    parsed = _pixit(text.strip())
    if parsed["unit"] == "":
        parsed["unit"] = "s"
    return Pixit(**parsed)


def _hex_text(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    text = re.sub(r"[\s:-]", "", str(value))
    return text[2:] if text.lower().startswith("0x") else text


def _hex_bytes(length: int | tuple[int, ...], what: str):
    """A hex value of a given length in bytes; the error names the lengths, never the value (it may be a secret)."""
    lengths = (length,) if isinstance(length, int) else length
    expected = " or ".join(str(n) for n in lengths)

    def check(value: Any) -> str:
        text = _hex_text(value)
        if not re.fullmatch(r"[0-9a-fA-F]*", text):
            raise ValueError(f"expected {what} as {expected} hex bytes; the value holds characters that are not "
                             "hex digits (value not shown)")
        if len(text) % 2 or len(text) // 2 not in lengths:
            got = f"{len(text) / 2:g}" if len(text) % 2 else str(len(text) // 2)
            raise ValueError(f"expected {what} as {expected} hex bytes, got {got} bytes")
        return text.lower()

    return check


def _int_in(lo: int, hi: int, what: str):
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected {what} {lo:#06x}-{hi:#06x}, got {value!r}")
        try:
            number = int(value, 0) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected {what} {lo:#06x}-{hi:#06x}, got {value!r}") from None
        if not lo <= number <= hi:
            raise ValueError(f"expected {what} {lo:#06x}-{hi:#06x}, got {number:#06x}")
        return number

    return check


Eui64 = Annotated[str, BeforeValidator(_hex_bytes(8, "an IEEE address"))]
PixitValue = Annotated[Pixit, BeforeValidator(_pixit)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- DUT profile ----------------------------------------------------------------------------------------


class Identity(_Strict):
    manufacturer: str
    model: str
    ieee: Eui64
    device_type: str | int = Field(description="alias (ihd, pct, ...), data-model name or device id")
    #: The manufacturer code its Node Descriptor names (Zigbee 2.3.2.3.7), as the Zigbee Alliance assigned it;
    #: None: not judged.
    manufacturer_code: int | None = Field(default=None, ge=0, le=0xFFFF,
                                          description="Node Descriptor manufacturer code (0x0000-0xFFFF)")

    @field_validator("device_type")
    @classmethod
    def _known_type(cls, value: str | int) -> str | int:
        try:
            resolve_device_type(value)
        except PicsError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def device(self) -> DeviceTypeModel:
        return resolve_device_type(self.device_type)


class Control(_Strict):
    """How the harness drives the DUT: a simulated reference model, a CLI (serial/socket), or an operator."""

    kind: Literal["sim", "cli", "manual"]
    model: str | None = None  # sim: reference device name (harness/devices)
    port: str | None = None  # cli: /dev/ttyUSB0 or a pyserial URL (socket://host:port)
    baudrate: int = 115200
    commands: dict[str, str] = Field(default_factory=dict)  # cli: action -> "command line -> reply regex"
    prompts: dict[str, str] = Field(default_factory=dict)  # manual: action -> what the operator is asked

    @model_validator(mode="after")
    def _needs(self) -> Control:
        if self.kind == "sim" and not self.model:
            raise ValueError("control.kind sim needs control.model (the reference device, e.g. ihd)")
        if self.kind == "cli" and not self.port:
            raise ValueError("control.kind cli needs control.port (/dev/ttyUSB0 or socket://host:port)")
        for action, line in self.commands.items():
            _check_action("commands", action, line.partition(" -> ")[0])
        for action, prompt in self.prompts.items():
            _check_action("prompts", action, prompt)
        return self


#: The actions of harness.dut's DutControl that a DUT profile's control.commands (cli) or control.prompts
#: (manual) may map, with the placeholders each may use.
DUT_ACTIONS: dict[str, tuple[str, ...]] = {
    "factory_reset": (), "start_joining": (), "start_rejoin": (), "opt_out": ("event_id",),
    "opt_in": ("event_id",), "confirm_message": ("message_id",), "read_log": (), "read_actuation": (),
    "read_local_time": (), "read_current_price": (),
    "power_off": (), "power_on": (),
    # An ESI's head end (issue 19): the operator publishes a price, issues a load control event, displays a message.
    "publish_price": (), "issue_event": (), "display_message": (),
    # A DUT that forms the network and is its Trust Center (network.role: forms): what its head end or installer
    # does to it. The install code goes with its CRC, as a label prints it; seconds 0 closes the window.
    "add_install_code": ("ieee", "install_code"), "permit_joining": ("seconds",), "update_network_key": (),
    "remove_device": ("ieee",),
    "info": (),  # what the DUT says of itself: the first thing `python -m harness.bench_check --dut` asks
}


def _check_action(field: str, action: str, text: str) -> None:
    """A control.commands entry names a harness action and uses only that action's placeholders."""
    import string

    if action not in DUT_ACTIONS:
        raise ValueError(f"{field}.{action}: not a harness action; use one of {', '.join(DUT_ACTIONS)}")
    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{field}.{action}: {exc} (write a literal brace as {{{{ or }}}})") from None
    unknown = names - set(DUT_ACTIONS[action])
    if unknown:
        allowed = ", ".join("{" + n + "}" for n in DUT_ACTIONS[action]) or "none"
        raise ValueError(f"{field}.{action}: placeholder {{{sorted(unknown)[0]}}} is unknown; "
                         f"this action has {allowed}")


class OpenSegApi(_Strict):
    """Where a gateway serves the OpenSEG consumer API (docs/openseg-api.md) and which clients the bench uses.

    base_url port 0 means "assigned at run time" (the simulated reference gateway binds a free port).
    paths map the profile's resource names onto the vendor's paths; unnamed resources keep the defaults.
    """

    base_url: str = "http://127.0.0.1:0"
    home_client: str = "127.0.0.1"  # bench address inside the DUT's home network
    foreign_client: str = "127.0.0.2"  # bench address outside it
    home_network: str = "127.0.0.1/32"
    # An address of the gateway outside its home network, as the bench reaches it (its WAN or utility side):
    # the API must not listen there (TC-OSEG-6.5). None: the profile names none, and that case cannot be judged.
    outside_address: str | None = None
    paths: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _outside(self) -> OpenSegApi:
        import ipaddress

        if self.outside_address is not None:
            try:
                outside = ipaddress.ip_address(self.outside_address)
                home = ipaddress.ip_network(self.home_network, strict=False)
            except ValueError as exc:
                raise ValueError(f"openseg: {exc}") from None
            if outside in home:
                raise ValueError(f"openseg.outside_address {self.outside_address} is inside the home network "
                                 f"{self.home_network}; give an address of the gateway outside it")
        return self


def _install_code_text(value: Any) -> str:
    """An install code with its CRC, checked; the messages name lengths only (an install code is a secret)."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    if not re.fullmatch(r"[0-9a-fA-F]*", _hex_text(text)):
        raise ValueError("expected hex digits (spaces, ':' or '-' between bytes allowed); the value holds other "
                         "characters (value not shown)")
    try:
        InstallCode.parse(text)
    except InstallCodeError as exc:
        if "CRC mismatch" in str(exc):
            raise ValueError("its last 2 bytes are not the CRC-16/X-25 of the code before them (the CRC is "
                             "little-endian); copy the code and CRC again from the device") from None
        raise ValueError(str(exc)) from None
    return text


class HanDevice(_Strict):
    """A HAN device the golden joins a forming DUT's network as: its IEEE and the install code the DUT's Trust
    Center is given for it (on a real bench the first is the golden radio's own IEEE)."""

    ieee: Eui64
    install_code: Annotated[SecretStr, BeforeValidator(_install_code_text)]

    @property
    def ieee_value(self) -> int:
        return int(self.ieee, 16)

    @property
    def install_code_value(self) -> InstallCode:
        return InstallCode.parse(self.install_code.get_secret_value())


#: The DUT's network roles (docs/profiles.md): it joins the golden's network (the golden forms it and is the Trust
#: Center), or it forms the network and is the Trust Center (the golden joins as HAN devices).
NETWORK_ROLES = ("joins", "forms")


class Network(_Strict):
    """The DUT's role on the network, and the HAN devices the golden joins as when the DUT forms it."""

    role: Literal["joins", "forms"] = "joins"
    han_devices: list[HanDevice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _devices(self) -> Network:
        if self.role == "forms" and not self.han_devices:
            raise ValueError("network.role forms needs network.han_devices: at least one HAN device (ieee and "
                             "install_code) the golden joins the DUT's network as")
        if self.role == "joins" and self.han_devices:
            raise ValueError("network.han_devices is for network.role forms (the golden joins the DUT's network); "
                             "remove it or set the role")
        ieees = [device.ieee for device in self.han_devices]
        if len(set(ieees)) != len(ieees):
            raise ValueError("network.han_devices: each HAN device needs its own IEEE address")
        return self

    @property
    def forms(self) -> bool:
        return self.role == "forms"


class DutProfile(_Strict):
    identity: Identity
    install_code: SecretStr
    endpoint: int = Field(1, ge=1, le=240)
    pics: dict[str, StrictBool] = Field(default_factory=dict)
    pixit: dict[str, PixitValue] = Field(default_factory=dict)
    control: Control
    openseg: OpenSegApi | None = None  # an OpenSEG gateway's consumer API; absent: not a gateway
    network: Network = Field(default_factory=Network)

    @field_validator("install_code", mode="before")
    @classmethod
    def _install_code(cls, value: Any) -> str:
        return _install_code_text(value)

    @field_validator("pixit", mode="after")
    @classmethod
    def _pixit_bounds(cls, value: dict[str, Pixit]) -> dict[str, Pixit]:
        """Every PIXIT is known and inside its bound (harness.pixits); a bare number gets its kind's unit."""
        normalised: dict[str, Pixit] = {}
        amounts: dict[str, float] = {}
        for name, pixit in value.items():
            try:
                amounts[name] = pixits.check(name, pixit.value, pixit.unit)
            except pixits.PixitBoundError as exc:
                raise ValueError(f"pixit.{name}: {exc}") from None
            unit = pixit.unit or ("s" if pixits.BOUNDS[name].kind == "duration" else "count")
            normalised[name] = pixit if unit == pixit.unit else Pixit(value=pixit.value, unit=unit)
        try:
            pixits.check_relations(amounts)
        except pixits.PixitBoundError as exc:
            raise ValueError(f"pixit.{exc}") from None
        return normalised

    @model_validator(mode="before")
    @classmethod
    def _claims(cls, data: Any) -> Any:
        """Refuse a mandatory PICS item set false; claim the mandatory items the profile leaves out.

        Runs on the raw document: a malformed identity or pics map is left for the field checks to report.
        """
        if not isinstance(data, dict) or not isinstance(data.get("pics", {}), dict):
            return data
        identity = data.get("identity")
        try:
            device = resolve_device_type(identity.get("device_type") if isinstance(identity, dict) else None)
        except (PicsError, TypeError):
            return data
        applications = ("openseg",) if data.get("openseg") is not None else ()
        pics = data.get("pics") or {}
        try:
            check_claims(pics, device, applications)
        except ClaimError as exc:
            raise ValueError(f"pics.{exc.key}: {exc}; set it true or remove the line") from None
        network = data.get("network")
        role = network.get("role", "joins") if isinstance(network, dict) else "joins"
        roles = role_claims(role if role in NETWORK_ROLES else "joins")
        for key, claimed in roles.items():  # the role is the profile's network.role; PICS only mirror it
            if key in pics and pics[key] is not claimed:
                raise ValueError(f"pics.{key}: the network role is network.role ({role}), which makes {key} "
                                 f"{str(claimed).lower()}; remove the line or change network.role")
        return {**data, "pics": {**with_mandatory(pics, device, applications), **roles}}

    @field_validator("pics", mode="before")
    @classmethod
    def _pics_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                try:
                    check_key(str(key))
                except PicsError as exc:
                    raise ValueError(str(exc)) from None
        return value

    @property
    def install_code_value(self) -> InstallCode:
        return InstallCode.parse(self.install_code.get_secret_value())


# --- bench profile --------------------------------------------------------------------------------------


CaPrivateKey = Annotated[SecretStr, BeforeValidator(_hex_bytes(21, "the CA private key (a sect163k1 scalar)"))]


class TestCa(_Strict):
    """Test certificate authority for CBKE: issuer id, public key, and (secret) private key."""

    issuer: Eui64
    # Suite 1 (sect163k1) or suite 2 (sect283k1) compressed point.
    public_key: Annotated[str, BeforeValidator(_hex_bytes((22, 37), "the CA public key (suite 1 or suite 2)"))]
    # One scalar signs both suites' certificates (harness.crypto.ecqv.TestCA), so it is a sect163k1 scalar.
    private_key: CaPrivateKey | None = None


class Sniffer(_Strict):
    kind: Literal["none", "sim", "tshark"] = "sim"
    interface: str | None = None


def _radio(value: Any) -> str:
    text = str(value)
    if text == "sim" or re.fullmatch(r"ezsp:\S+", text):
        return text
    raise ValueError(f"expected 'sim' or 'ezsp:PORT' (e.g. ezsp:/dev/ttyACM0), got {value!r}")


class BenchProfile(_Strict):
    radio: Annotated[str, BeforeValidator(_radio)] = "sim"
    channel: int = Field(15, ge=11, le=26)
    pan_id: Annotated[int, BeforeValidator(_int_in(0x0001, 0xFFFE, "a PAN id"))] = 0x1A62
    extended_pan_id: Eui64
    network_key: Annotated[SecretStr, BeforeValidator(_hex_bytes(16, "the network key"))]
    test_ca: TestCa | None = None
    sniffer: Sniffer = Field(default_factory=Sniffer)
    hooks: dict[str, str] = Field(default_factory=dict)


# --- loading ----------------------------------------------------------------------------------------------

_MESSAGES = {
    "bool_type": "expected true/false, got {input!r}",
    "bool_parsing": "expected true/false, got {input!r}",
    "missing": "required field missing; add it",
    "extra_forbidden": "unknown field; remove it or check its spelling",
    "int_type": "expected an integer, got {input!r}",
    "int_parsing": "expected an integer, got {input!r}",
    "string_type": "expected text, got {input!r}",
    "greater_than_equal": "expected at least {ge}, got {input!r}",
    "less_than_equal": "expected at most {le}, got {input!r}",
    "literal_error": "expected one of {expected}, got {input!r}",
}


def _one_line(path: Path | str, error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    template = _MESSAGES.get(first["type"])
    if template:
        message = template.format(input=first.get("input"), **(first.get("ctx") or {}))
    else:
        message = re.sub(r"^Value error, ", "", first["msg"])
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    # A check over a whole mapping (pixit bounds, claims) names the entry itself: `pixit.join_timeout: ...`.
    if re.match(r"^[a-z_]+\.\S+: ", message) and (not loc or message.startswith(f"{loc}.")):
        return f"{path}: {message}{more}"
    return f"{path}: {loc or '(top level)'}: {message}{more}"


#: Byte-order marks of encodings a profile must not be in (a UTF-8 BOM is accepted and ignored).
_FOREIGN_BOMS = {codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32", codecs.BOM_UTF16_LE: "UTF-16",
                 codecs.BOM_UTF16_BE: "UTF-16"}


def _read_text(path: Path | str) -> str:
    """A profile's text: UTF-8, with or without a BOM; anything else is one line saying how to fix it."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file; check the path given to --profile/--bench") from None
    except IsADirectoryError:
        raise ProfileError(f"{path}: is a folder, not a profile file; give the YAML file's path") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    for bom, name in _FOREIGN_BOMS.items():  # UTF-32 LE before UTF-16 LE: it starts with the same two bytes
        if raw.startswith(bom):
            raise ProfileError(f"{path}: saved as {name}; save the profile as UTF-8 (docs/profiles.md)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProfileError(f"{path}: line {line}: not UTF-8 (byte 0x{raw[exc.start]:02X} at offset {exc.start}); "
                           "save the profile as UTF-8 (docs/profiles.md)") from None


def _load(path: Path | str, model: type[BaseModel]) -> Any:
    text = _read_text(path)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise ProfileError(f"{path}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(doc, dict):
        raise ProfileError(f"{path}: (top level): expected a mapping of fields, got {type(doc).__name__}")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise ProfileError(_one_line(path, exc)) from None


def load_dut_profile(path: Path | str) -> DutProfile:
    return _load(path, DutProfile)


def load_bench_profile(path: Path | str) -> BenchProfile:
    return _load(path, BenchProfile)
