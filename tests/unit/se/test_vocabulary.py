"""One SE vocabulary (issue 16): clusters, commands, attributes and statuses are named by the generated
definitions of harness/se (zigpy style: ``Drlc.cluster_id``, ``Price.ClientCommandDefs.publish_price.id``,
``EventStatus.Event_Completed``) and ZCL general commands and statuses by zigpy's foundation, never by a table
of ids a module writes by hand.

The scan reads the source of harness/ and steps/ (harness/se is the vocabulary; harness/wire holds Zigbee frame
ids, which are not SE's) and fails on an SE id table at module or class level: a table-like name (``DRLC_CLUSTER``,
``CMD_PUBLISH_PRICE``, ``ATTR_TIME``, ``STATUS_NAMES``, ``ESI_INPUT_CLUSTERS``) bound to integer literals, a name
of the vocabulary bound to its own id (``METERING = 0x0702``, ``MULTIPLIER = 0x0301``, ``SE_PROFILE = 0x0109``),
a table of SE cluster ids under any name, or an enum of command or status codes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from zigpy.zcl.foundation import GeneralCommand, Status

from harness.ke.frames import KeCommand
from harness.se.clusters import SE_CLUSTERS, KeyEstablishment
from harness.se.datamodel import SE_PROFILE_ID, load_datamodel, snake_name
from harness.se.types import EventStatus, KeyEstablishmentStatus

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("harness", "steps")
#: The vocabulary itself, and the Zigbee (not SE) frame layer.
EXEMPT = ("harness/se/", "harness/wire/")

#: Names that say "an id table" whatever they are called otherwise.
ID_TABLE_NAME = re.compile(r"(^|_)CLUSTERS?$|^CMD_|_CMD$|^ATTR_|^COMMAND_ID|_COMMAND_ID|STATUS_(NAMES|CODES)$|_STATUSES$"
                           r"|(^|_)ATTRIBUTES?$|^STATUS_[A-Z]")
#: Prefixes and suffixes a local copy of an id tends to carry around a vocabulary name.
AFFIXES = re.compile(r"^(CMD|ATTR|ATTRIBUTE|COMMAND|CLUSTER|STATUS)_|_(CLUSTER|CMD|ID|ATTRIBUTE|ATTR|COMMAND)$"
                     r"|^[A-Z]+_(?=DEVICE_ID$)")
#: Enums that would be a local copy of a command or status table.
ENUM_BASES = {"Enum", "IntEnum", "IntFlag", "enum8", "enum16", "bitmap8", "bitmap16", "uint8_t"}
ENUM_NAME = re.compile(r"(Status|Command|CommandId|Cmd)$")


def _vocabulary() -> dict[str, frozenset[int]]:
    """Every SE and ZCL name an id could be copied under, in the UPPER_CASE of a module constant, with its ids."""
    names: dict[str, set[int]] = {}

    def add(name: str, value: int) -> None:
        names.setdefault(name.upper(), set()).add(int(value))

    for cluster_id, cluster in SE_CLUSTERS.items():
        add(snake_name(cluster.__name__), cluster_id)
        add(snake_name(load_datamodel().cluster(cluster_id).name), cluster_id)
        for defs in (cluster.AttributeDefs, cluster.ClientAttributeDefs, cluster.ServerCommandDefs,
                     cluster.ClientCommandDefs):
            for name in dir(defs):
                if not name.startswith("_"):
                    add(name, getattr(defs, name).id)
    for member in (*GeneralCommand, *Status, *EventStatus, *KeyEstablishmentStatus):
        add(member.name, member.value)
    add("SE_PROFILE", SE_PROFILE_ID)
    for device_type in load_datamodel().device_types:
        add("DEVICE", device_type.device_id)  # ESI_DEVICE_ID, METER_DEVICE_ID: see AFFIXES
    return {name: frozenset(ids) for name, ids in names.items()}


VOCABULARY = _vocabulary()
SE_CLUSTER_IDS = frozenset(SE_CLUSTERS)


def _copies_an_id(name: str, ints: list[int]) -> bool:
    """A table-like name holding numbers, or a vocabulary name holding its own id (MULTIPLIER = 0x0301, not
    STACK_VERSION = 0x6A30, an EmberZNet version)."""
    if ID_TABLE_NAME.search(name):
        return True
    ids = VOCABULARY.get(name, frozenset())
    stripped = name
    while (shorter := AFFIXES.sub("", stripped)) != stripped:
        stripped = shorter
        ids |= VOCABULARY.get(stripped, frozenset())
    return any(i in ids for i in ints)


def _literal_ints(node: ast.AST) -> list[int] | None:
    """The integers of a literal (an int, or a tuple, list, set or dict of them); None when the value is computed
    (a name, an attribute, a call, a comprehension), which is how a name taken from the vocabulary reads."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, int) and not isinstance(node.value, bool) else []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _literal_ints(node.operand)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        found: list[int] = []
        for element in node.elts:
            ints = _literal_ints(element)
            if ints is None:
                return None
            found += ints
        return found
    if isinstance(node, ast.Dict):
        found = []
        for part in (*node.keys, *node.values):
            ints = _literal_ints(part) if part is not None else None
            found += ints or []
        return found
    return None


def _targets(node: ast.Assign | ast.AnnAssign) -> list[tuple[str, ast.AST]]:
    """(name, value) of every name an assignment binds, pairing tuple unpacking element-wise."""
    assert node.value is not None
    value = node.value
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    pairs: list[tuple[str, ast.AST]] = []
    for target in targets:
        if isinstance(target, ast.Name):
            pairs.append((target.id, value))
        elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
            names = [e.id for e in target.elts if isinstance(e, ast.Name)]
            if isinstance(value, ast.Tuple) and len(value.elts) == len(names):
                pairs += zip(names, value.elts, strict=True)
            else:
                pairs += [(name, value) for name in names]
    return pairs


def _cluster_id_table(value: ast.AST) -> bool:
    """A tuple, list, set or dict keyed by two or more SE cluster ids written as numbers (an SE application
    cluster among them, so (0, 3) from some other context does not count)."""
    if isinstance(value, ast.Dict):
        elements = [k for k in value.keys if k is not None]
    elif isinstance(value, ast.Tuple | ast.List | ast.Set):
        elements = list(value.elts)
    else:
        return False
    ids = [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, int)]
    return (len(ids) >= 2 and len(ids) == len(elements) and set(ids) <= SE_CLUSTER_IDS
            and any(i >= 0x0700 for i in ids))


def _enum_bases(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def _assignments(body: list[ast.stmt], where: str) -> list[str]:
    found = []
    for node in body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for name, value in _targets(node):
                ints = _literal_ints(value)
                if ints and _copies_an_id(name, ints):
                    found.append(f"{where}:{node.lineno}: {name} holds hand-written ids {ints[:6]}")
                elif _cluster_id_table(value):
                    found.append(f"{where}:{node.lineno}: {name} is a table of SE cluster ids")
    return found


def hand_written_tables(source: str, where: str = "<source>") -> list[str]:
    """Every SE id table in *source* (module level or a class's), as 'where:line: what'."""
    tree = ast.parse(source)
    found = _assignments(tree.body, where)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        if _enum_bases(node) & ENUM_BASES and ENUM_NAME.search(node.name):
            members = [s for s in node.body if isinstance(s, ast.Assign) and _literal_ints(s.value)]
            if members:
                found.append(f"{where}:{node.lineno}: enum {node.name} copies {len(members)} command or status ids")
        else:
            found += _assignments(node.body, f"{where}:{node.name}")
    return found


def _modules() -> list[Path]:
    paths = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(EXEMPT):
                paths.append(path)
    return paths


def test_no_module_defines_an_se_id_table_by_hand():
    found = []
    for path in _modules():
        found += hand_written_tables(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert not found, "SE ids copied by hand (name them by harness.se's definitions or zigpy's foundation):\n" + \
        "\n".join(found)


@pytest.mark.parametrize("source", [
    "DRLC_CLUSTER = 0x0701",
    "CMD_PUBLISH_PRICE = 0x00",
    "ATTR_TIME = 0x0000",
    "STATUS_NAMES = {0x01: 'received', 0x02: 'started'}",
    "BASIC, TIME, PRICE = 0x0000, 0x000A, 0x0700",
    "METERING = 0x0702",
    "MULTIPLIER = 0x0301",
    "REQUEST_FAST_POLL_MODE = 0x03",
    "REPORT_ATTRIBUTES = 0x0A",
    "AREAS = {0x0000: 'BASIC', 0x0700: 'PRICE'}",
    "ESI_INPUT_CLUSTERS = (0x0000, 0x0003, 0x0800)",
    "SERVED = (0x0000, 0x0701)",
    "IDENTITY_ATTRIBUTES = {0x0004: 'manufacturer'}",
    "SE_PROFILE_ID = 0x0109",
    "ESI_DEVICE_ID = 0x0500",
    "class Meter:\n    LIVE_ATTRIBUTES = (0x0000, 0x0400)\n",
    "import enum\nclass KeCommand(enum.IntEnum):\n    INITIATE = 0x00\n",
    "class EventStatus(t.enum8):\n    Event_Started = 0x02\n",
])
def test_the_scan_finds_a_hand_written_table(source):
    assert hand_written_tables(source)


@pytest.mark.parametrize("source", [
    "DRLC_CLUSTER = Drlc.cluster_id",
    "LIVE_ATTRIBUTES = (Metering.AttributeDefs.current_summation_delivered.id,)",
    "ALLOWED_CLUSTERS = {c.cluster_id: c.name for c in (Basic, Time)}",
    "class KeCommand(enum.IntEnum):\n    INITIATE = KeyEstablishment.ServerCommandDefs.initiate_key_establishment_request.id\n",
    "UNTIL_CHANGED_FOREVER = 0xFFFF",
    "READ_TIMEOUT = 3.0",
    "ZDO_PROFILE = 0x0000",
    "COORDINATOR_NWK = 0x0000",
    "STACK_VERSION = 0x6A30",
    "PRICE_ID = 0x0E5E_7002",
    "CERTIFICATE_LENGTHS = {1: 48, 2: 74}",
])
def test_the_scan_leaves_names_from_the_vocabulary_and_other_constants_alone(source):
    assert not hand_written_tables(source)


# -- every generated name the code uses exists --------------------------------------------------------------------

DEFS = ("AttributeDefs", "ClientAttributeDefs", "ServerCommandDefs", "ClientCommandDefs")


def _cluster_aliases(tree: ast.Module) -> dict[str, type]:
    """Local names of the SE cluster classes a module imports from harness.se.clusters."""
    by_name = {cluster.__name__: cluster for cluster in SE_CLUSTERS.values()}
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "harness.se.clusters":
            for alias in node.names:
                if alias.name in by_name:
                    aliases[alias.asname or alias.name] = by_name[alias.name]
    return aliases


def test_every_generated_definition_the_code_names_exists():
    missing = []
    for path in [*_modules(), *sorted((ROOT / "tests").rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = _cluster_aliases(tree)
        for node in ast.walk(tree):
            # <Cluster>.<Defs>.<name>
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr in DEFS
                    and isinstance(node.value.value, ast.Name) and node.value.value.id in aliases):
                defs = getattr(aliases[node.value.value.id], node.value.attr)
                if not hasattr(defs, node.attr):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                                   f"{node.value.value.id}.{node.value.attr}.{node.attr}")
    assert not missing, "names the generated definitions lack:\n" + "\n".join(missing)


def test_key_establishment_requests_and_responses_share_their_ids():
    """KeCommand names one id for a request and its response; the data model must agree."""
    requests, responses = KeyEstablishment.ServerCommandDefs, KeyEstablishment.ClientCommandDefs
    pairs = {
        KeCommand.INITIATE: (requests.initiate_key_establishment_request, responses.initiate_key_establishment_response),
        KeCommand.EPHEMERAL_DATA: (requests.ephemeral_data_request, responses.ephemeral_data_response),
        KeCommand.CONFIRM_KEY: (requests.confirm_key_data_request, responses.confirm_key_data_response),
        KeCommand.TERMINATE: (requests.terminate_key_establishment, responses.terminate_key_establishment),
    }
    assert {command: (request.id, response.id) for command, (request, response) in pairs.items()} == {
        command: (int(command), int(command)) for command in KeCommand}
