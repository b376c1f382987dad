"""zigpy types for Smart Energy command payload fields (enums, bitmaps, fixed and tail byte strings).

Values and layouts come from the suite's SE-FACTS notes (copied here as constants) and were checked against
Wireshark's SE dissector (epan/dissectors/packet-zbee-zcl-se.c). A payload that does not fit a type raises
ValueError with a message naming the field, which the ZCL engine turns into a finding.
"""

from __future__ import annotations

from typing import ClassVar, Self

import zigpy.types as t


class SeTypeError(ValueError):
    """A Smart Energy payload field has the wrong length or shape."""


class FixedBytes(bytes):
    """A byte string of a fixed length with no length prefix (signatures, MACs)."""

    length: ClassVar[int] = 0

    def __new__(cls, value: bytes = b"") -> Self:
        value = bytes(value)
        if len(value) != cls.length:
            raise SeTypeError(f"{cls.__name__}: expected {cls.length} bytes, got {len(value)}")
        return super().__new__(cls, value)

    def serialize(self) -> bytes:
        return bytes(self)

    @classmethod
    def deserialize(cls, data: bytes) -> tuple[Self, bytes]:
        if len(data) < cls.length:
            raise SeTypeError(f"{cls.__name__}: expected {cls.length} bytes, got {len(data)}")
        return cls(data[: cls.length]), data[cls.length :]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({bytes(self).hex()})"


class TailBytes(bytes):
    """The rest of a payload as bytes, optionally restricted to a set of allowed lengths.

    Used for the last field of a command whose length depends on context (the suite decides the size of a
    CBKE certificate or ephemeral key) and for SE 1.2a compound payloads the suite does not decode.
    """

    lengths: ClassVar[tuple[int, ...]] = ()

    def __new__(cls, value: bytes = b"") -> Self:
        value = bytes(value)
        if cls.lengths and len(value) not in cls.lengths:
            allowed = " or ".join(str(n) for n in cls.lengths)
            raise SeTypeError(f"{cls.__name__}: expected {allowed} bytes, got {len(value)}")
        return super().__new__(cls, value)

    def serialize(self) -> bytes:
        return bytes(self)

    @classmethod
    def deserialize(cls, data: bytes) -> tuple[Self, bytes]:
        return cls(data), b""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({bytes(self).hex()})"


# --- Values every SE schedule shares (SE-FACTS "Price 0x0700 and Messaging 0x0703", "DRLC") -----------

#: StartTime 0x00000000: the event, price or message starts now (the receiver's time of receipt).
START_NOW = 0x00000000
#: DurationInMinutes 0xFFFF of a price or message: until changed.
UNTIL_CHANGED = 0xFFFF


# --- Time 0x000A (SE-FACTS "Time") ----------------------------------------------------------------------


class TimeStatus(t.bitmap8):
    """TimeStatus bits (SE-FACTS "Time")."""

    Master = 0x01
    Synchronized = 0x02
    MasterZoneDst = 0x04
    Superseding = 0x08


# --- Key Establishment 0x0800 (SE-FACTS "Key Establishment cluster") ---------------------------------


class KeyEstablishmentSuite(t.bitmap16):
    """Suites a device supports: bit0 = suite 1 (sect163k1), bit1 = suite 2 (sect283k1)."""

    Suite_1 = 0x0001
    Suite_2 = 0x0002


class KeyEstablishmentStatus(t.enum8):
    """Terminate Key Establishment status codes."""

    Success = 0x00
    Unknown_Issuer = 0x01
    Bad_Key_Confirm = 0x02
    Bad_Message = 0x03
    No_Resources = 0x04
    Unsupported_Suite = 0x05
    Invalid_Certificate = 0x06


class Certificate(TailBytes):
    """Implicit certificate carried as the KE identity: 48 bytes (suite 1) or 74 bytes (suite 2)."""

    lengths = (48, 74)


class EphemeralData(TailBytes):
    """Compressed ephemeral public key QE: 22 bytes (sect163k1) or 37 bytes (sect283k1)."""

    lengths = (22, 37)


class Smac(FixedBytes):
    """Key confirmation MAC (HMAC-MMO output)."""

    length = 16


# --- DRLC 0x0701 ---------------------------------------------------------------------------------------


class DeviceClass(t.bitmap16):
    """Load Control device classes (bit names as Wireshark's SE dissector shows them)."""

    HVAC_Compressor_or_Furnace = 0x0001
    Strip_Heaters_Baseboard_Heaters = 0x0002
    Water_Heater = 0x0004
    Pool_Pump_Spa_Jacuzzi = 0x0008
    Smart_Appliances = 0x0010
    Irrigation_Pump = 0x0020
    Managed_CI_Loads = 0x0040
    Simple_Misc_Loads = 0x0080
    Exterior_Lighting = 0x0100
    Interior_Lighting = 0x0200
    Electric_Vehicle = 0x0400
    Generation_Systems = 0x0800


class EventControl(t.bitmap8):
    Randomize_Start_Time = 0x01
    Randomize_End_Time = 0x02


class CancelControl(t.bitmap8):
    Use_Randomized_End = 0x01


class EventStatus(t.enum8):
    """Report Event Status codes (SE-FACTS "DRLC")."""

    Load_Control_Event_Command_Received = 0x01
    Event_Started = 0x02
    Event_Completed = 0x03
    User_Opted_Out = 0x04
    User_Opted_In = 0x05
    Event_Cancelled = 0x06
    Event_Superseded = 0x07
    Event_Partially_Completed_With_User_Opt_Out = 0x08
    Event_Partially_Completed_Due_To_User_Opt_In = 0x09
    Event_Completed_No_User_Participation = 0x0A
    Rejected_Invalid_Cancel_Command_Default = 0xF8
    Rejected_Invalid_Cancel_Command_Invalid_Effective_Time = 0xF9
    Rejected_Event_Expired = 0xFB
    Rejected_Invalid_Cancel_Undefined_Event = 0xFD
    Load_Control_Event_Command_Rejected = 0xFE


class IntervalChannel(t.enum8):
    """Get Profile IntervalChannel (SE 1.x Annex D.3.3.2.1)."""

    CONSUMPTION_DELIVERED = 0x00
    CONSUMPTION_RECEIVED = 0x01


class GetProfileStatus(t.enum8):
    """Get Profile Response Status (SE 1.x Annex D.3.3.3.1, Table D-48)."""

    SUCCESS = 0x00
    UNDEFINED_INTERVAL_CHANNEL = 0x01
    INTERVAL_CHANNEL_NOT_SUPPORTED = 0x02
    INVALID_END_TIME = 0x03
    MORE_PERIODS_REQUESTED_THAN_CAN_BE_RETURNED = 0x04
    NO_INTERVALS_AVAILABLE = 0x05


class SignatureType(t.enum8):
    No_Signature = 0x00
    ECDSA = 0x01


class Signature(FixedBytes):
    """ECDSA signature r(21) || s(21); SE 1.1+ reference code sends 42 x 0xFF with type 0."""

    length = 42


# Sentinel values from SE-FACTS: "unused" markers in a Load Control Event.
TEMPERATURE_OFFSET_UNUSED = 0xFF
TEMPERATURE_SET_POINT_UNUSED = -0x8000
AVERAGE_LOAD_ADJUSTMENT_UNUSED = -0x80
DUTY_CYCLE_UNUSED = 0xFF
#: Longest Load Control Event duration in minutes.
MAX_EVENT_DURATION_MINUTES = 1440
#: The defined ranges of two Load Control Event controls, both percentages (SE 1.x Annex D.2.2, Load Control
#: Event: Duty Cycle the share of the time a load may be on, 0-100; Average Load Adjustment Percentage a limit
#: relative to the load's average use, -100..+100); any other value but the "unused" markers is reserved.
MAX_DUTY_CYCLE = 100
MAX_AVERAGE_LOAD_ADJUSTMENT = 100
#: The defined bits of DeviceClass (bits 0-11) and EventControl (bits 0-1); the others are reserved.
DEVICE_CLASS_DEFINED_BITS = 0x0FFF
EVENT_CONTROL_DEFINED_BITS = 0x03


# --- Price 0x0700 --------------------------------------------------------------------------------------


class PriceTrailingDigitAndPriceTier(t.IntStruct, t.uint8_t):
    """Low nibble: price tier; high nibble: digits to the right of the decimal point."""

    price_tier: t.uint4_t
    trailing_digit: t.uint4_t


class NumberOfPriceTiersAndRegisterTier(t.IntStruct, t.uint8_t):
    """Low nibble: register tier; high nibble: number of price tiers."""

    register_tier: t.uint4_t
    number_of_price_tiers: t.uint4_t


#: Publish Price NumberOfBlockThresholds (SE 1.1) when a price has no block pricing: "not used".
BLOCK_THRESHOLDS_UNUSED = 0xFF


class PriceControl(t.bitmap8):
    Acknowledgement_Required = 0x01
    Total_Tiers_Exceeds_15 = 0x02


# --- Messaging 0x0703 ----------------------------------------------------------------------------------


class MessageControl(t.IntStruct, t.uint8_t):
    """Bits 0-1 transmission mode, 2-3 importance, 4-6 reserved/enhanced, 7 confirmation required."""

    transmission: t.uint2_t
    importance: t.uint2_t
    reserved: t.uint3_t
    confirmation_required: t.uint1_t


#: MessageControl with only bit 7 (message confirmation required) set.
CONFIRMATION_REQUIRED = 0x80


# --- Named SE types of the data model -> zigpy wire types ---------------------------------------------
# The SE 1.0-1.1b core types above are modelled richly; SE 1.2a-only types map to the plain wire type of
# their size (enum8/bitmap8/...), and compound 1.2a payload records are kept as raw tail bytes.

SE_NAMED_TYPES: dict[str, type] = {
    "AmiKeyEstablishmentStatus": KeyEstablishmentStatus,
    "Identity": Certificate,
    "EphemeralData": EphemeralData,
    "Smac": Smac,
    "AmiDeviceClass": DeviceClass,
    "AmiCriticalityLevel": t.uint8_t,
    "AmiEventControl": EventControl,
    "AmiCancelControl": CancelControl,
    "AmiEventStatus": EventStatus,
    "SignatureType": SignatureType,
    "Signature": Signature,
    "PriceTrailingDigitAndPriceTier": PriceTrailingDigitAndPriceTier,
    "PriceNumberOfPriceTiersAndRegisterTier": NumberOfPriceTiersAndRegisterTier,
    "PriceControlMask": PriceControl,
    "MessagingControlMask": MessageControl,
    "AmiUnitOfMeasure": t.enum8,
    "AlternateCostUnit": t.enum8,
    "AlternateCostTrailingDigit": t.bitmap8,
    "AmiCommandOptions": t.bitmap8,
    "AmiGetProfileStatus": t.enum8,
    "AmiIntervalPeriod": t.enum8,
    "AmiIntervalChannel": t.enum8,
    "MessagingExtendedControlMask": t.bitmap8,
    "TariffType": t.bitmap8,
    "SupplyStatus": t.enum8,
    "MeteringSupplyStatus": t.enum8,
    "ProposedSupplyStatus": t.enum8,
    "SupplyControlBits": t.bitmap8,
    "SnapshotCause": t.bitmap32,
    "SnapshotConfirmation": t.enum8,
    "SnapshotPayloadType": t.enum8,
    "SampleType": t.enum8,
    "ConversionFactorTrailingDigit": t.bitmap8,
    "CalorificValueUnit": t.enum8,
    "CalorificValueTrailingDigit": t.bitmap8,
    "BillingPeriodDuration": t.bitmap24,
    "BillingPeriodDurationType": t.bitmap8,
    "BlockPeriodControl": t.bitmap8,
    "BlockPeriodDurationType": t.bitmap8,
    "TariffResolutionPeriod": t.enum8,
    "TariffTypeChargingScheme": t.bitmap8,
    "PriceTrailingDigit": t.bitmap8,
    "TierBlockMode": t.enum8,
    "GenerationTier": t.enum8,
    "ExtendedNumberOfPriceTiers": t.enum8,
    "ExtendedPriceTier": t.enum8,
    "ExtendedRegisterTier": t.enum8,
    "PriceMatrixSubPayloadControl": t.bitmap8,
    "BlockThresholdSubPayloadControl": t.bitmap8,
    "CO2Unit": t.enum8,
    "CO2TrailingDigit": t.bitmap8,
    "BillTrailingDigit": t.bitmap8,
    "CppPriceTier": t.enum8,
    "PublishCppEventCppAuth": t.enum8,
    "CppEventResponseCppAuth": t.enum8,
    "CreditPaymentStatus": t.enum8,
    "CurrencyChangeControl": t.bitmap32,
}

#: Compound SE 1.2a records the suite keeps as raw bytes (always the last, repeated field of a command).
SE_RAW_RECORD_TYPES = frozenset(
    {"PriceMatrixSubPayload", "BlockThresholdSubPayload", "SnapshotResponsePayload", "SnapshotSchedulePayload"}
)

#: ZCL wire types of the data model -> zigpy types (payload fields and attribute values).
ZCL_WIRE_TYPES: dict[str, type] = {
    "BOOLEAN": t.Bool,
    "BITMAP8": t.bitmap8,
    "BITMAP16": t.bitmap16,
    "BITMAP24": t.bitmap24,
    "BITMAP32": t.bitmap32,
    "BITMAP48": t.bitmap48,
    "BITMAP64": t.bitmap64,
    "INT8U": t.uint8_t,
    "INT16U": t.uint16_t,
    "INT24U": t.uint24_t,
    "INT32U": t.uint32_t,
    "INT48U": t.uint48_t,
    "INT56U": t.uint56_t,
    "INT64U": t.uint64_t,
    "INT8S": t.int8s,
    "INT16S": t.int16s,
    "INT24S": t.int24s,
    "INT32S": t.int32s,
    "INT48S": t.int48s,
    "ENUM8": t.enum8,
    "ENUM16": t.enum16,
    "OCTET_STRING": t.LVBytes,
    "CHAR_STRING": t.CharacterString,
    "UTC_TIME": t.UTCTime,
}


def field_type(type_name: str) -> type:
    """The zigpy type for a data-model field or attribute type name; KeyError if unknown."""
    if type_name in ZCL_WIRE_TYPES:
        return ZCL_WIRE_TYPES[type_name]
    return SE_NAMED_TYPES[type_name]
