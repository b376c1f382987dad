"""PICS: the keys a DUT profile claims, derived from the SE data model, and the tag expressions that gate cases.

Scheme (docs/profiles.md):
    SE.<AREA>.<S|C>                  cluster server (S) or client (C) implemented
    SE.<AREA>.<S|C>.A<hex4>          attribute of that side implemented        e.g. SE.DRLC.C.A0001
    SE.<AREA>.<S|C>.C<hex2>.Rx|Tx    command received (Rx) or generated (Tx)   e.g. SE.PRICE.C.C00.Rx
AREA: BASIC, IDENT, TIME, PRICE, DRLC, MTR, MSG, KE.

Expressions: PICS keys combined with `and`, `or`, `not`, parentheses, `true`, `false`
(e.g. `SE.DRLC.C and not SE.DRLC.C.A0002`). A key the profile does not list counts as false.

Claims: a device type must claim its mandatory items (the data model's device_types, claim_sources and
application_profiles): `check_claims` refuses a PICS map that sets one false, naming the item, the device type
and the rule; `with_mandatory` adds the ones a profile leaves out (a device type claims them by being that type).

`python -m harness.pics template --device-type pct` prints a PICS template for vendors: mandatory items
true, optional ones false with a comment.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Iterable, Mapping

from harness.se.clusters import Basic, Drlc, Identify, KeyEstablishment, Messaging, Metering, Price, Time
from harness.se.datamodel import DataModel, DeviceTypeModel, Side, load_datamodel

#: PICS area code per cluster id.
AREAS: dict[int, str] = {
    Basic.cluster_id: "BASIC",
    Identify.cluster_id: "IDENT",
    Time.cluster_id: "TIME",
    Price.cluster_id: "PRICE",
    Drlc.cluster_id: "DRLC",
    Metering.cluster_id: "MTR",
    Messaging.cluster_id: "MSG",
    KeyEstablishment.cluster_id: "KE",
}
CLUSTER_OF_AREA = {area: cid for cid, area in AREAS.items()}

#: Short device-type names for the CLI and profiles -> data-model device type names (device ids in SE-FACTS).
DEVICE_TYPE_ALIASES: dict[str, str] = {
    "esi": "SE-ESP",
    "meter": "SE-Meter",
    "ihd": "SE-IPD",
    "pct": "SE-PCT",
    "lcd": "SE-LC",
    "sa": "SE-SA",
    "pt": "SE-pt",
    "re": "SE-rangeextender",
}

KEY_RE = re.compile(
    r"^SE\.(?P<area>[A-Z]+)\.(?P<side>[SC])"
    r"(?:\.A(?P<attr>[0-9A-F]{4})|\.C(?P<cmd>[0-9A-F]{2})\.(?P<dir>Rx|Tx))?$"
)
#: Key Establishment suites a device claims: SE.KE.SUITE1 (sect163k1), SE.KE.SUITE2 (sect283k1).
SUITE_RE = re.compile(r"^SE\.KE\.SUITE(?P<suite>[12])$")
#: Options of a cluster that are not an attribute or a command: SE.DRLC.C.SIGN, the DRLC client signs its
#: Report Event Status (SignatureType 0x01, ECDSA with its suite-1 certificate's key); SE.PRICE.C.REFUSALS, the
#: Price client answers a Publish Price it does not take with the Default Response status that says why
#: (DUPLICATE_EXISTS, FAILURE); SE.PRICE.C.BLOCK, the Price client takes block pricing (SE 1.1 Publish Price with
#: tiers and NumberOfBlockThresholds); SE.TIME.C.LOCAL, the device shows local time (from the ESI's TimeZone and DST);
#: SE.MTR.S.REPORTING, the Metering server reports CurrentSummationDelivered as Configure Reporting asks;
#: SE.PRICE.S.STANDING, the Price server holds a standing price (Duration 0xFFFF, until changed), the price in force
#: whenever no price its operator published is;
#: SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST, the Time server's TimeStatus bits 0, 1 and 2 (the server is the
#: master clock, is synchronised to one over the network, sets its own time zone and DST).
OPTION_KEYS = frozenset({"SE.DRLC.C.SIGN", "SE.MTR.S.REPORTING", "SE.PRICE.C.BLOCK", "SE.PRICE.C.REFUSALS",
                         "SE.PRICE.S.STANDING", "SE.TIME.C.LOCAL", "SE.TIME.S.MASTER", "SE.TIME.S.SYNCHRONIZED",
                         "SE.TIME.S.MASTERZONEDST"})
#: The DUT's network role, which a profile declares (network.role) and these items mirror so that cases can be
#: gated on it: SE.NWK.JOIN, the DUT joins a network the golden forms (the golden is its Trust Center);
#: SE.NWK.TC, the DUT forms the network and is its Trust Center (the golden joins as HAN devices).
ROLE_KEYS = {"joins": "SE.NWK.JOIN", "forms": "SE.NWK.TC"}


def role_claims(role: str) -> dict[str, bool]:
    """The role items a DUT of network role *role* (joins, forms) claims: its own true, the other false."""
    if role not in ROLE_KEYS:
        raise PicsError(f"network role {role!r} is not one of {', '.join(ROLE_KEYS)}")
    return {key: name == role for name, key in ROLE_KEYS.items()}


class PicsError(ValueError):
    """A PICS key or expression is malformed, or a device type is unknown."""


class ClaimError(PicsError):
    """A PICS map sets an item false that the device type (or an application profile) makes mandatory.

    ``key`` is the item; the message (without the key) names the device type and the rule.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def cluster_key(cluster_id: int, side: Side) -> str:
    return f"SE.{AREAS[cluster_id]}.{side.letter}"


def attribute_key(cluster_id: int, side: Side, attr_id: int) -> str:
    return f"{cluster_key(cluster_id, side)}.A{attr_id:04X}"


def command_key(cluster_id: int, side: Side, command_id: int, received: bool) -> str:
    return f"{cluster_key(cluster_id, side)}.C{command_id:02X}.{'Rx' if received else 'Tx'}"


def check_key(key: str) -> str:
    """Return the key if it follows the scheme, else raise PicsError saying what is expected."""
    if SUITE_RE.match(key) or key in OPTION_KEYS or key in ROLE_KEYS.values():
        return key
    match = KEY_RE.match(key)
    if not match or match["area"] not in CLUSTER_OF_AREA:
        areas = ", ".join(sorted(CLUSTER_OF_AREA))
        raise PicsError(
            f"PICS key {key!r} does not follow SE.<AREA>.<S|C>[.A<hex4>|.C<hex2>.<Rx|Tx>] with AREA in {areas}, "
            f"or one of SE.KE.SUITE1, SE.KE.SUITE2, {', '.join(sorted(OPTION_KEYS | set(ROLE_KEYS.values())))}"
        )
    return key


def resolve_device_type(value: str | int, model: DataModel | None = None) -> DeviceTypeModel:
    """A device type by alias (pct), data-model name (SE-PCT) or device id (0x0503 / 1283)."""
    model = model or load_datamodel()
    if isinstance(value, str) and value.lower() in DEVICE_TYPE_ALIASES:
        return model.device_type(DEVICE_TYPE_ALIASES[value.lower()])
    if isinstance(value, str):
        for dev in model.device_types:
            if dev.name == value:
                return dev
        try:
            value = int(value, 0)
        except ValueError:
            pass
    if isinstance(value, int):
        core = [d for d in model.device_types if d.device_id == value and "1.2" not in d.name and "1.4" not in d.name]
        if core:
            return core[0]
    names = ", ".join(sorted(DEVICE_TYPE_ALIASES))
    raise PicsError(f"unknown device type {value!r}: use one of {names}, a data-model name or a device id")


@dataclasses.dataclass(frozen=True)
class PicsItem:
    key: str
    mandatory: bool
    description: str
    since: str | None = None
    rule: str = ""  # for a mandatory item: the rule that makes it so


#: Application profiles a DUT profile can put its device under (data model application_profiles).
APPLICATIONS = ("openseg",)


def _required_sides(device_type: DeviceTypeModel, applications: Iterable[str]) -> dict[tuple[int, Side], str]:
    """(cluster id, side) -> the rule that makes that side mandatory for the device type and applications."""
    model = load_datamodel()
    every = model.every_device
    sides: dict[tuple[int, Side], str] = {}
    for side, ids in ((Side.SERVER, device_type.mandatory_server), (Side.CLIENT, device_type.mandatory_client)):
        common = () if every is None else (every.mandatory_server if side is Side.SERVER else every.mandatory_client)
        for cid in ids:
            own = device_type.source or f"SE data model device type {device_type.name}"
            sides[(cid, side)] = every.source if every is not None and cid in common else own
    for name in applications:
        app = model.application_profile(name)
        for side, ids in ((Side.SERVER, app.mandatory_server), (Side.CLIENT, app.mandatory_client)):
            for cid in ids:
                sides.setdefault((cid, side), app.source)
    return sides


def pics_items(device_type: DeviceTypeModel, *, all_revisions: bool = False,
               applications: Iterable[str] = ()) -> list[PicsItem]:
    """Every PICS item of the suite's clusters for a device type, mandatory ones marked with their rule.

    An attribute or command is mandatory when its cluster side is mandatory for the device type (or one of
    the application profiles, e.g. openseg) and the data model marks the item mandatory. SE 1.2a additions
    are left out unless all_revisions.
    """
    model = load_datamodel()
    required_sides = _required_sides(device_type, applications)
    items: list[PicsItem] = []
    for cid in AREAS:
        cluster = model.cluster(cid)
        for side in (Side.SERVER, Side.CLIENT):
            side_rule = required_sides.get((cid, side), "")
            required = bool(side_rule)
            item_rule = f"{side_rule}; {model.items_source}" if model.items_source else side_rule
            items.append(PicsItem(cluster_key(cid, side), required, f"{cluster.name} {side.value}",
                                  rule=side_rule))
            for attr in cluster.attributes_of(side):
                if attr.since and "1.2a" in attr.since and not all_revisions:
                    continue
                mandatory = required and attr.mandatory
                items.append(PicsItem(attribute_key(cid, side, attr.id), mandatory, attr.name, attr.since,
                                      rule=item_rule if mandatory else ""))
            for received, commands in ((True, cluster.commands_received_by(side)), (False, cluster.commands_sent_by(side))):
                for cmd in commands:
                    if cmd.since and "1.2a" in cmd.since and not all_revisions:
                        continue
                    mandatory = required and cmd.mandatory
                    items.append(PicsItem(command_key(cid, side, cmd.id, received), mandatory, cmd.name, cmd.since,
                                          rule=item_rule if mandatory else ""))
    return items


def mandatory_items(device_type: DeviceTypeModel, applications: Iterable[str] = ()) -> dict[str, PicsItem]:
    """The PICS items a device of this type (under these application profiles) must claim, by key."""
    return {item.key: item for item in pics_items(device_type, applications=applications) if item.mandatory}


def _kind(item: PicsItem) -> str:
    if item.key.count(".") == 2:
        return f"the {item.description}"
    return f"{item.description} ({'command' if item.key.endswith(('Rx', 'Tx')) else 'attribute'})"


def check_claims(pics: Mapping[str, object], device_type: DeviceTypeModel, applications: Iterable[str] = ()) -> None:
    """Refuse a PICS map that sets a mandatory item false (ClaimError naming the item, device type and rule).

    Keys left out are not refused: `with_mandatory` claims them. KE suites: a device that carries Key
    Establishment offers at least one suite, so SE.KE.SUITE1 and SE.KE.SUITE2 cannot both be false.
    """
    applications = tuple(applications)
    where = f"{device_type.name} (0x{device_type.device_id:04X})" + "".join(
        f" as an {load_datamodel().application_profile(a).title or a}" for a in applications)
    for key, item in mandatory_items(device_type, applications).items():
        if pics.get(key) is False:
            raise ClaimError(key, f"{_kind(item)} is mandatory for {where} and cannot be false "
                                  f"(rule: {item.rule})")
    if pics.get("SE.KE.SUITE1", True) is False and pics.get("SE.KE.SUITE2", False) is not True:
        raise ClaimError("SE.KE.SUITE1", f"a {where} carries Key Establishment, so it offers at least one CBKE "
                                         "suite (rule: SE 1.x Annex C, KeyEstablishmentSuite names the suites a "
                                         "device supports); claim SE.KE.SUITE1 or SE.KE.SUITE2")


def with_mandatory(pics: Mapping[str, bool], device_type: DeviceTypeModel,
                   applications: Iterable[str] = ()) -> dict[str, bool]:
    """The PICS map with every mandatory item the map leaves out claimed (true)."""
    claimed = dict(pics)
    for key in mandatory_items(device_type, applications):
        claimed.setdefault(key, True)
    return claimed


def template(device_type: DeviceTypeModel, *, all_revisions: bool = False, applications: Iterable[str] = ()) -> str:
    """A PICS template (YAML) for vendors: mandatory items true, optional ones false with a comment."""
    applications = tuple(applications)
    items = pics_items(device_type, all_revisions=all_revisions, applications=applications)
    rules = sorted({item.rule.split("; ")[0] for item in items if item.mandatory})
    lines = [
        f"# PICS template for {device_type.name} (device id 0x{device_type.device_id:04X})"
        + "".join(f" as an {load_datamodel().application_profile(a).title or a}" for a in applications) + ".",
        "# Mandatory items are true and must stay true: a profile or --pics that sets one false is refused,",
        "# and a mandatory item the profile leaves out is claimed. Mandatory by these rules:",
        *(f"#   {rule}" for rule in rules),
        "# Set optional items your device implements to true. Attributes and commands of an optional cluster",
        "# side count only when that side is claimed.",
        "pics:",
    ]
    for item in items:
        value = "true " if item.mandatory else "false"
        note = "mandatory" if item.mandatory else "optional"
        since = f", since {item.since}" if item.since else ""
        lines.append(f"  {item.key}: {value}  # {note}: {item.description}{since}")
    keys = {item.key for item in items}
    if keys & {"SE.KE.S", "SE.KE.C"}:
        lines.append("  SE.KE.SUITE1: true   # CBKE suite 1 (sect163k1); claimed unless set to false")
        lines.append("  SE.KE.SUITE2: false  # optional: CBKE suite 2 (sect283k1), SE 1.2")
    if "SE.DRLC.C" in keys:
        lines.append("  SE.DRLC.C.SIGN: false  # optional: signs Report Event Status (ECDSA, suite-1 key)")
    if "SE.PRICE.C" in keys:
        lines.append("  SE.PRICE.C.REFUSALS: false  # optional: answers a price it does not take with the Default "
                     "Response status saying why (DUPLICATE_EXISTS, FAILURE)")
        lines.append("  SE.PRICE.C.BLOCK: false  # optional: takes block pricing (tiers and NumberOfBlockThresholds, "
                     "SE 1.1)")
    if "SE.PRICE.S" in keys:
        lines.append("  SE.PRICE.S.STANDING: false  # optional: holds a standing price (Duration 0xFFFF, until changed), "
                     "in force whenever no published price is")
    if "SE.TIME.C" in keys:
        lines.append("  SE.TIME.C.LOCAL: false  # optional: shows local time (reads the ESI's TimeZone and DST)")
    if "SE.TIME.S" in keys:
        lines.append("  SE.TIME.S.MASTER: false  # optional: TimeStatus Master (bit 0): the network's master clock")
        lines.append("  SE.TIME.S.SYNCHRONIZED: false  # optional: TimeStatus Synchronized (bit 1): set over the "
                     "network from a master")
        lines.append("  SE.TIME.S.MASTERZONEDST: false  # optional: TimeStatus MasterZoneDst (bit 2): sets its own "
                     "TimeZone and DST")
    if "SE.MTR.S" in keys:
        lines.append("  SE.MTR.S.REPORTING: false  # optional: reports CurrentSummationDelivered as configured")
    lines.append("# SE.NWK.JOIN and SE.NWK.TC mirror the profile's network.role (joins: the DUT joins the golden's")
    lines.append("# network; forms: the DUT forms it and is the Trust Center): set network.role, not these.")
    return "\n".join(lines) + "\n"


# --- expressions -----------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>[A-Za-z0-9_.]+))")


def _tokens(expression: str) -> list[str]:
    tokens, pos = [], 0
    expression = expression.rstrip()
    while pos < len(expression):
        match = _TOKEN_RE.match(expression, pos)
        if not match:
            raise PicsError(f"PICS expression {expression!r}: unexpected {expression[pos:].strip()[:1]!r} at {pos}")
        tokens.append(match["paren"] or match["word"])
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str, pics: Mapping[str, bool]) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.pos = 0
        self.pics = pics

    def fail(self, what: str) -> PicsError:
        return PicsError(f"PICS expression {self.expression!r}: {what}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("ends too early")
        self.pos += 1
        return token

    def parse(self) -> bool:
        if not self.tokens:
            raise self.fail("is empty")
        value = self.disjunction()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return value

    def disjunction(self) -> bool:
        value = self.conjunction()
        while self.peek() == "or":
            self.take()
            right = self.conjunction()
            value = value or right
        return value

    def conjunction(self) -> bool:
        value = self.negation()
        while self.peek() == "and":
            self.take()
            right = self.negation()
            value = value and right
        return value

    def negation(self) -> bool:
        if self.peek() == "not":
            self.take()
            return not self.negation()
        return self.atom()

    def atom(self) -> bool:
        token = self.take()
        if token == "(":
            value = self.disjunction()
            if self.take() != ")":
                raise self.fail("missing ')'")
            return value
        if token in ("true", "false"):
            return token == "true"
        if token in ("and", "or", ")"):
            raise self.fail(f"unexpected {token!r}")
        try:
            check_key(token)
        except PicsError as exc:
            raise self.fail(str(exc)) from None
        return bool(self.pics.get(token, False))


def evaluate(expression: str, pics: Mapping[str, bool]) -> bool:
    """Evaluate a PICS tag expression against a profile's PICS map (absent keys are false)."""
    return _Parser(expression, pics).parse()


def keys_in(expression: str) -> list[str]:
    """The PICS keys an expression mentions (for reporting why a case is not applicable)."""
    return [tok for tok in _tokens(expression) if tok not in ("(", ")", "and", "or", "not", "true", "false")]


#: The Gherkin step by which a scenario states the cluster side the DUT must claim (steps/test_attributes.py).
CLAIM_STEP = re.compile(r"the DUT claims the (?P<cluster>.+) (?P<side>server|client)")


def claimed_by_steps(step_names: Iterable[str]) -> list[str]:
    """PICS keys a scenario's own steps require ("Given the DUT claims the Time server" -> SE.TIME.S), with a
    Scenario Outline's example filled in. The plugin and the case catalogue decide applicability from them
    before anything runs, so a failed commissioning never yields a verdict for a cluster the DUT does not claim.
    A step naming no cluster of the data model requires nothing here (the step itself decides at run time)."""
    keys = []
    for name in step_names:
        match = CLAIM_STEP.fullmatch(name)
        if match is None:
            continue
        try:
            cluster = load_datamodel().cluster_by_name(match["cluster"])
        except (KeyError, ValueError):
            continue
        keys.append(cluster_key(cluster.id, Side(match["side"])))
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.pics", description="PICS tools of the SE suite")
    sub = parser.add_subparsers(dest="command", required=True)
    tmpl = sub.add_parser("template", help="print a PICS template for a device type")
    tmpl.add_argument("--device-type", required=True, help=f"one of {', '.join(DEVICE_TYPE_ALIASES)} or a device id")
    tmpl.add_argument("--all-revisions", action="store_true", help="include SE 1.2a additions")
    tmpl.add_argument("--openseg", action="store_true",
                      help="an OpenSEG consumer gateway (adds its mandatory Simple Metering client)")
    args = parser.parse_args(argv)
    try:
        device_type = resolve_device_type(args.device_type)
    except PicsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    applications = ("openseg",) if args.openseg else ()
    sys.stdout.write(template(device_type, all_revisions=args.all_revisions, applications=applications))
    return 0


if __name__ == "__main__":
    sys.exit(main())
