"""Smart Energy cluster schemas as zigpy Cluster subclasses, generated from the project's data model.

zigpy 2.x ships Price, DRLC and Messaging empty and its Basic/Identify/Time/Metering follow the ZCL/HA
revision, not SE 1.x. These classes carry exactly the SE data model: AttributeDefs (server side),
ClientAttributeDefs (client side, which zigpy has no slot for), ServerCommandDefs (commands the server
receives, i.e. sent by the client) and ClientCommandDefs (commands the client receives). Payload field types
come from harness.se.types; fields the model marks as added in a later revision are optional, so a frame from
an older device still decodes.

The classes are kept out of zigpy's global cluster registry (_skip_registry) so that a zigpy
ControllerApplication in the same process keeps its own definitions.

They are the suite's SE vocabulary: code names a cluster, command or attribute by its definition
(``Drlc.cluster_id``, ``Price.ClientCommandDefs.publish_price.id``, ``Metering.AttributeDefs.multiplier.id``),
never by a local copy of its id. The definitions are made at import from the data model, so a type checker
sees every name on a definitions class as a ZCLAttributeDef / ZCLCommandDef (a misspelt name fails at run
time, and tests/unit/se/test_vocabulary.py resolves every name the code uses).
"""

from __future__ import annotations

import types as pytypes
from typing import TYPE_CHECKING, ClassVar

import zigpy.types as t
from zigpy.zcl import Cluster
from zigpy.zcl.foundation import (
    BaseAttributeDefs,
    BaseCommandDefs,
    IterableMemberMeta,
    ZCLAttributeAccess,
    ZCLAttributeDef,
    ZCLCommandDef,
)

from harness.se.datamodel import CommandModel, Side, load_datamodel, snake_name
from harness.se.types import SE_RAW_RECORD_TYPES, TailBytes, field_type

#: Fields from which a command's payload is optional although the model gives no revision for them.
#: Publish Price: everything after Price is optional (SE-FACTS "Price"; older ESIs stop after Price).
OPTIONAL_FROM: dict[tuple[int, str], str] = {(0x0700, "PublishPrice"): "priceRatio"}


class RawRecords(TailBytes):
    """Repeated SE 1.2a records the suite does not decode (kept as bytes)."""


class _AttributeDefsMeta(IterableMemberMeta):
    if TYPE_CHECKING:
        # The attributes are set from the data model at import: to a type checker each is an attribute def.
        def __getattr__(cls, name: str) -> ZCLAttributeDef: ...


class _CommandDefsMeta(IterableMemberMeta):
    if TYPE_CHECKING:
        def __getattr__(cls, name: str) -> ZCLCommandDef: ...


class SeAttributeDefs(BaseAttributeDefs, metaclass=_AttributeDefsMeta):
    """Base of the generated attribute definitions of one side of an SE cluster."""


class SeCommandDefs(BaseCommandDefs, metaclass=_CommandDefsMeta):
    """Base of the generated command definitions one side of an SE cluster receives."""


def attribute_defs(cluster_id: int, side: Side) -> type[SeAttributeDefs]:
    """A zigpy AttributeDefs class with every attribute of one side of a data-model cluster."""
    cluster = load_datamodel().cluster(cluster_id)
    defs = pytypes.new_class(f"{side.value.title()}AttributeDefs", (SeAttributeDefs,))
    for attr in cluster.attributes_of(side):
        # The model does not say which attributes are reportable; every attribute may be configured.
        access = "rwp" if attr.writable else "rp"
        setattr(
            defs,
            attr.python_name,
            ZCLAttributeDef(
                id=t.uint16_t(attr.id),
                type=field_type(attr.type),
                access=ZCLAttributeAccess.from_str(access),
                mandatory=attr.mandatory,
            ),
        )
    return defs


def _schema(cluster_id: int, command: CommandModel) -> dict[str, type]:
    schema: dict[str, type] = {}
    optional = False
    optional_from = OPTIONAL_FROM.get((cluster_id, command.name))
    for fld in command.fields:
        optional = optional or fld.since is not None or fld.name == optional_from
        if fld.type in SE_RAW_RECORD_TYPES:
            ftype: type = RawRecords
        elif fld.is_array:
            # zigpy parametrises List at run time; the item type comes from the data model, not the source.
            ftype = t.List[field_type(fld.type)]  # type: ignore[misc, assignment]
        else:
            ftype = field_type(fld.type)
        schema[snake_name(fld.name) + ("?" if optional else "")] = ftype
    return schema


def command_defs(cluster_id: int, receiver: Side) -> type[SeCommandDefs]:
    """A zigpy CommandDefs class with the commands one side of a data-model cluster receives."""
    cluster = load_datamodel().cluster(cluster_id)
    name = "ServerCommandDefs" if receiver is Side.SERVER else "ClientCommandDefs"
    defs = pytypes.new_class(name, (SeCommandDefs,))
    for command in cluster.commands_received_by(receiver):
        # zigpy takes a schema as a field dict and compiles it (with_compiled_schema); its annotation only
        # names the compiled CommandSchema class.
        schema = _schema(cluster_id, command)
        definition = ZCLCommandDef(id=t.uint8_t(command.id), schema=schema)  # type: ignore[arg-type]
        setattr(defs, command.python_name, definition)
    return defs


class SeCluster(Cluster):
    """Base of the SE cluster schemas: adds the client-side attribute table zigpy lacks."""

    _skip_registry = True
    # zigpy declares its definitions as nested classes; here each is the generated class of the data model.
    AttributeDefs: ClassVar[type[SeAttributeDefs]] = SeAttributeDefs  # type: ignore[assignment]
    ClientAttributeDefs: ClassVar[type[SeAttributeDefs]] = SeAttributeDefs
    ServerCommandDefs: ClassVar[type[SeCommandDefs]] = SeCommandDefs  # type: ignore[assignment]
    ClientCommandDefs: ClassVar[type[SeCommandDefs]] = SeCommandDefs  # type: ignore[assignment]

    @classmethod
    def attribute_defs_of(cls, side: Side) -> type[BaseAttributeDefs]:
        return cls.AttributeDefs if side is Side.SERVER else cls.ClientAttributeDefs

    @classmethod
    def command_defs_received_by(cls, side: Side) -> type[BaseCommandDefs]:
        return cls.ServerCommandDefs if side is Side.SERVER else cls.ClientCommandDefs


def _cluster(cluster_id: int) -> dict[str, type[SeAttributeDefs] | type[SeCommandDefs]]:
    return {
        "AttributeDefs": attribute_defs(cluster_id, Side.SERVER),
        "ClientAttributeDefs": attribute_defs(cluster_id, Side.CLIENT),
        "ServerCommandDefs": command_defs(cluster_id, Side.SERVER),
        "ClientCommandDefs": command_defs(cluster_id, Side.CLIENT),
    }


class Basic(SeCluster):
    cluster_id = t.uint16_t(0x0000)
    ep_attribute = "se_basic"
    locals().update(_cluster(0x0000))


class Identify(SeCluster):
    cluster_id = t.uint16_t(0x0003)
    ep_attribute = "se_identify"
    locals().update(_cluster(0x0003))


class Time(SeCluster):
    cluster_id = t.uint16_t(0x000A)
    ep_attribute = "se_time"
    locals().update(_cluster(0x000A))


class Price(SeCluster):
    cluster_id = t.uint16_t(0x0700)
    ep_attribute = "se_price"
    locals().update(_cluster(0x0700))


class Drlc(SeCluster):
    cluster_id = t.uint16_t(0x0701)
    ep_attribute = "se_drlc"
    locals().update(_cluster(0x0701))


class Metering(SeCluster):
    cluster_id = t.uint16_t(0x0702)
    ep_attribute = "se_metering"
    locals().update(_cluster(0x0702))


class Messaging(SeCluster):
    cluster_id = t.uint16_t(0x0703)
    ep_attribute = "se_messaging"
    locals().update(_cluster(0x0703))


class KeyEstablishment(SeCluster):
    cluster_id = t.uint16_t(0x0800)
    ep_attribute = "se_key_establishment"
    locals().update(_cluster(0x0800))


#: The SE cluster schemas by cluster id.
SE_CLUSTERS: dict[int, type[SeCluster]] = {
    c.cluster_id: c for c in (Basic, Identify, Time, Price, Drlc, Metering, Messaging, KeyEstablishment)
}


def command_def(cluster_id: int, receiver: Side, command_id: int) -> ZCLCommandDef | None:
    """The compiled definition of a cluster command as the receiving side sees it, or None."""
    cluster = SE_CLUSTERS.get(cluster_id)
    if cluster is None:
        return None
    commands = cluster.server_commands if receiver is Side.SERVER else cluster.client_commands
    return commands.get(command_id)
