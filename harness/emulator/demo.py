"""The quickest look at what the suite sees: a simulated SE network, one install-code join, a few
APS-encrypted Smart Energy ZCL frames, written to a pcap and a Wireshark key file.

The golden radio (harness.radio.sim ControllerApplication, Trust Center on the coordinator) forms the
network and admits a meter with its install code; the ESI side reads the meter's CurrentSummationDelivered
(Metering 0x0702, attribute 0x0000) and the meter answers. Everything runs on the virtual clock, so the
capture is identical for the same seed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import zigpy.types as t
import zigpy.zcl.foundation as foundation
import zigpy.zdo.types as zdo_t

from harness.capture import PcapWriter, write_key_file
from harness.clock import new_virtual_loop
from harness.crypto import InstallCode
from harness.radio.sim import ControllerApplication, register_air, sim_config, unregister_air
from harness.se.clusters import Basic, KeyEstablishment, Metering, Time
from harness.se.datamodel import SE_PROFILE_ID, load_datamodel
from harness.sim.air import Air, AirFrame
from harness.sim.node import APS_ACK_WAIT_DURATION, Node, Role
from harness.wire.frames.types import ieee_to_eui64

ESI_ENDPOINT = 1
METER_ENDPOINT = 1

# Demo identities and secrets: public test values, never a real deployment's.
DEMO_INSTALL_CODE = "83FED3407A939723A5C639B26916D505C3B5"  # Zigbee SE test install code with CRC
DEMO_NETWORK_KEY = bytes.fromhex("01030507090B0D0F00020406080A0C0D")
DEMO_METER_IEEE = 0x0022A30000001234
DEMO_CHANNEL = 15
DEMO_PAN_ID = 0x1A62
DEMO_EXTENDED_PAN_ID = bytes.fromhex("dddddddddddddddd")


@dataclass
class DemoResult:
    frames: int
    summation: int
    meter_nwk: int
    encrypted: bool


class DemoMeter:
    """A minimal meter application on a Node: answers Read Attributes of CurrentSummationDelivered."""

    def __init__(self, node: Node, summation: int) -> None:
        self.node = node
        self.summation = summation
        node.add_endpoint(
            zdo_t.SimpleDescriptor(
                endpoint=METER_ENDPOINT, profile=SE_PROFILE_ID, device_type=load_datamodel().device_type("SE-Meter").device_id, device_version=0,
                input_clusters=[Basic.cluster_id, KeyEstablishment.cluster_id, Metering.cluster_id],
                output_clusters=[Time.cluster_id],
            )
        )
        node.add_packet_listener(self._packet)

    def _packet(self, packet: t.ZigbeePacket) -> None:
        if packet.profile_id != SE_PROFILE_ID or packet.cluster_id != Metering.cluster_id or packet.dst_ep != METER_ENDPOINT:
            return
        header, payload = foundation.ZCLHeader.deserialize(packet.data.serialize())
        if header.command_id != foundation.GeneralCommand.Read_Attributes or not header.frame_control.is_general:
            return
        request, _ = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Read_Attributes].schema.deserialize(payload)
        records = []
        for attribute_id in request.attribute_ids:
            if attribute_id == Metering.AttributeDefs.current_summation_delivered.id:
                value = foundation.TypeValue(type=foundation.DataTypeId.uint48, value=t.uint48_t(self.summation))
                records.append(foundation.ReadAttributeRecord(attrid=attribute_id, status=foundation.Status.SUCCESS, value=value))
            else:
                records.append(foundation.ReadAttributeRecord(attrid=attribute_id, status=foundation.Status.UNSUPPORTED_ATTRIBUTE))
        rsp_header = foundation.ZCLHeader.general(
            header.tsn, foundation.GeneralCommand.Read_Attributes_rsp, direction=foundation.Direction.Server_to_Client
        )
        rsp_header.frame_control = rsp_header.frame_control.replace(disable_default_response=True)
        body = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Read_Attributes_rsp].schema(status_records=records)
        self.node.loop.create_task(
            self.node.send_packet(
                t.ZigbeePacket(
                    src_ep=METER_ENDPOINT, dst=packet.src, dst_ep=packet.src_ep, profile_id=SE_PROFILE_ID,
                    cluster_id=Metering.cluster_id, data=t.SerializableBytes(rsp_header.serialize() + body.serialize()),
                    tx_options=t.TransmitOptions.APS_Encryption | t.TransmitOptions.ACK,
                )
            )
        )


def read_attributes_frame(tsn: int, attribute_ids: list[int]) -> bytes:
    header = foundation.ZCLHeader.general(tsn, foundation.GeneralCommand.Read_Attributes)
    body = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Read_Attributes].schema(attribute_ids=attribute_ids)
    return header.serialize() + body.serialize()


async def run_demo(air: Air, summation: int = 123456, deadline: float = 60.0) -> DemoResult:
    """Form, join the meter with its install code, read its summation twice over APS encryption."""
    path = register_air(f"demo-{id(air)}", air)
    install_code = InstallCode.parse(DEMO_INSTALL_CODE)
    app = await ControllerApplication.new(
        sim_config(path, channel=air.channel, pan_id=DEMO_PAN_ID, extended_pan_id=DEMO_EXTENDED_PAN_ID,
                   network_key=DEMO_NETWORK_KEY),
        auto_form=True,
    )
    try:
        meter = Node(air, DEMO_METER_IEEE, Role.ROUTER, tc_link_key=install_code.link_key)
        DemoMeter(meter, summation)
        await app.permit_with_link_key(ieee_to_eui64(DEMO_METER_IEEE), t.KeyData(install_code.link_key), 60)
        await meter.join(deadline=deadline)
        responses: asyncio.Queue[t.ZigbeePacket] = asyncio.Queue()
        app.register_packet_callback(None, lambda p: responses.put_nowait(p) if p.cluster_id == Metering.cluster_id else None)
        value = None
        encrypted = True
        for tsn in (1, 2):
            await app.send_packet(
                t.ZigbeePacket(
                    src_ep=ESI_ENDPOINT, dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=meter.nwk),
                    dst_ep=METER_ENDPOINT, tsn=tsn, profile_id=SE_PROFILE_ID, cluster_id=Metering.cluster_id,
                    data=t.SerializableBytes(read_attributes_frame(tsn, [Metering.AttributeDefs.current_summation_delivered.id])),
                    tx_options=t.TransmitOptions.APS_Encryption | t.TransmitOptions.ACK,
                )
            )
            async with asyncio.timeout(deadline):
                packet = await responses.get()
            encrypted &= bool(packet.tx_options & t.TransmitOptions.APS_Encryption)
            _hdr, payload = foundation.ZCLHeader.deserialize(packet.data.serialize())
            rsp, _ = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Read_Attributes_rsp].schema.deserialize(payload)
            value = int(rsp.status_records[0].value.value)
        await asyncio.sleep(APS_ACK_WAIT_DURATION)  # let the last APS acks cross before shutting down
        return DemoResult(air.frames_sent, value, meter.nwk, encrypted)
    finally:
        await app.shutdown()
        unregister_air(f"demo-{id(air)}")


def demo_keys(install_code: str = DEMO_INSTALL_CODE) -> list[tuple[bytes, str]]:
    return [
        (DEMO_NETWORK_KEY, "network key"),
        (InstallCode.parse(install_code).link_key, "meter install-code link key"),
    ]


def write_demo(pcap_path: str | Path, keys_path: str | Path, seed: int = 0) -> DemoResult:
    """Run the demo on a fresh virtual loop; write the capture and the Wireshark key file."""
    loop = new_virtual_loop()
    try:
        air = Air(channel=DEMO_CHANNEL, seed=seed, loop=loop)
        with PcapWriter(pcap_path) as writer:
            air.add_sniffer(lambda frame: _write(writer, frame))
            asyncio.set_event_loop(loop)
            result = loop.run_until_complete(run_demo(air))
        write_key_file(keys_path, demo_keys())
        return result
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _write(writer: PcapWriter, frame: AirFrame) -> None:
    writer.write(frame.timestamp, frame.psdu)
