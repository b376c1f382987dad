@area:metering
Feature: The Simple Metering server of a meter
  A Smart Energy meter (or any device that claims the Simple Metering server) serves its registers as the data
  model types them and as its formatting attributes describe them, never lets its summation go back, reports as
  it was configured to, answers Get Profile with its load profile and Request Fast Poll Mode within the rules.
  The golden plays the Metering client: it reads, configures reporting, asks for profiles and fast poll, and
  judges every field of every frame the DUT sends back.
  Rules (SE-FACTS "Metering"; SE 1.x Annex D.3; ZCL 07-5123 2.5.7-2.5.11):
  - Formatting: a value is raw x Multiplier / Divisor in UnitofMeasure (Multiplier and Divisor 1 when not
    served, never 0); SummationFormatting and DemandFormatting give the digits left (bits 3-6) and right (bits
    0-2) of the point, so the integer part of the value served fits in the digits left.
  - UnitofMeasure suits MeteringDeviceType: kWh for an electric meter, a volume or BTU for gas, a volume for water.
  - Status: an electric meter sets only its defined bits 0-6 (bit 7 is reserved).
  - Reporting: no two reports closer than the minimum interval; one at least every maximum interval; a report
    before the maximum interval carries at least the reportable change; a reportable change is reported once
    the minimum interval allows.
  - Get Profile: the block whose last interval is the most recent ending at or before EndTime (0: now), most
    recent first, at most MaxNumberOfPeriodsDelivered (attribute 0x0500, 24 by default); Status 0x00 when every
    interval requested is delivered, 0x04 when fewer, 0x05 when none ends by EndTime, 0x01 for an undefined
    channel, 0x02 for a channel the meter does not measure (Silicon Labs, Freescale and Microchip reference
    meters). Each interval is the consumption of its period, as the register's progress shows it.
  - Request Fast Poll Mode: the applied period is max(requested, FastPollUpdatePeriod) and fast poll ends at most
    15 minutes away (Silicon Labs simple-metering-server: the requested duration capped at 15 minutes).
  Decisions where the issue left it open: the golden reads the register while it waits (every 30 s, or every
  5 s while judging reporting) and judges the intervals and reports against those readings, allowing the
  meter's update period (DefaultUpdatePeriod, else the PIXIT meter_update_period) for the register to catch up;
  for a Get Profile answered with an error status only the status and the empty interval list are judged.
  - Time-of-use: energy is counted in the summation and in the tier register of the tier in force, so over any
    span the claimed tier registers together grow by what CurrentSummationDelivered grows, and none goes back.
  - Demand and summation: Multiplier and Divisor "must be applied against all summation, consumption and demand
    values" (D.3.2.2.4.2-3), and UnitofMeasure 0x00 reads the summation in kWh and the demand in kW (0x01-0x07: a
    volume or BTU and that per hour), so between two readings the summation rises by the energy the demand
    delivers, demand x hours; the scale is the same on both sides, so the SummationFormatting and
    DemandFormatting bytes (where the point goes on a display) play no part. CurrentSummationDelivered "is updated
    continuously as new measurements are made" (D.3.2.2.1.1); InstantaneousDemand "may be continuously updated
    as new measurements are acquired, but at a minimum ... must be updated at the DefaultUpdatePeriod" (0x000A),
    and at the FastPollUpdatePeriod (0x000B) in fast poll mode; each "may apply to other attributes as defined
    by the device manufacturer" (D.3.2.2.1). Public sources quoting the specification's text: the attribute
    descriptions of Mr-Markus/ZigbeeNet libraries/ZigBeeNet/ZCL/Clusters/ZclMeteringCluster.cs and the Request
    Fast Poll Mode Response of zsmartsystems/com.zsmartsystems.zigbee (zcl/clusters/metering/
    RequestFastPollModeResponse.java), both generated from the cluster definitions.
  - The update period of TC-MET-1.9 is DefaultUpdatePeriod where claimed, else the PIXIT meter_update_period. The
    tolerance of TC-MET-1.9 and TC-MET-1.10, which a real meter meets: a reading shows the registers as the meter
    last updated them, at most one update period before the request left, so over any span of readings the
    summation's rise is the energy between the two readings' arrivals within one update period's load at each end
    (the highest demand served around that reading); it does not grow with the span, and a single rise of readings
    an update period apart may lawfully be nought or two periods' worth (the readings drift against the meter's
    updates), so every span is judged, not only consecutive readings. Between two readings the load is taken to
    lie between the demands served from the first reading until one that certainly shows the load at the second (a
    load changes at most once, or steadily, between readings an update period apart; one that comes and goes
    unseen between readings is beyond what readings can judge); and each register counts whole raw units (one
    summation unit either way, one demand unit over the span). A meter that updates more often than the period it
    serves has younger registers, so it passes. Integration between readings is not exact: the bound allows for
    the load changing anywhere between them.
  - Update periods in and out of fast poll (TC-MET-1.10): the Request Fast Poll Mode Response gives
    AppliedUpdatePeriod, "the period at which metering data shall be updated", and FastPollModeEndTime, when the
    server "will terminate fast poll mode and resume updating at the rate specified by DefaultUpdatePeriod".
    The specification bounds the time between updates from above only ("at a minimum"; "continuously as new
    measurements are made"), so a meter that updates more often than its DefaultUpdatePeriod outside fast poll
    is conformant and no case fails it for that. What is judged is that the registers are never older than the
    period in force: DefaultUpdatePeriod before the request, the applied period during fast poll (from a
    DefaultUpdatePeriod after the answer, for the update already due), DefaultUpdatePeriod again from one
    applied period after FastPollModeEndTime (the update due at the end may still follow the fast poll
    period), each edge widened by the PIXIT timing_tolerance for the meter's clock. The golden asks for a
    minute of fast poll at FastPollUpdatePeriod (the fastest it offers: a meter must speed up) and at three
    DefaultUpdatePeriods (slower than the default, which makes the return to DefaultUpdatePeriod visible).
  Mirroring (Request and Remove Mirror) is not judged yet (no reference meter claims it).

  Background:
    Given the DUT shares the golden's Smart Energy network and a CBKE link key

  @id:TC-MET-1.1 @pics:SE.MTR.S
  Scenario: The mandatory Metering attributes are served and suit the MeteringDeviceType
    When the golden reads the mandatory Simple Metering server attributes
    Then every mandatory Metering attribute is served with the data model's type
    And MeteringDeviceType is a defined device type
    And UnitofMeasure suits the MeteringDeviceType

  @id:TC-MET-1.2 @pics:SE.MTR.S
  Scenario: The formatting attributes describe the values served
    When the golden reads the register and its formatting attributes
    Then Multiplier and Divisor are not zero
    And the summation served fits the digits of SummationFormatting
    And the demand served fits the digits of DemandFormatting

  @id:TC-MET-1.3 @pics:SE.MTR.S
  Scenario: CurrentSummationDelivered never decreases
    When the golden reads CurrentSummationDelivered every 5 minutes for the PIXIT summation watch period
    Then no reading is lower than the one before it

  @id:TC-MET-1.4 @pics:SE.MTR.S.REPORTING
  Scenario Outline: CurrentSummationDelivered is reported as configured: min <min> s, max <max> s, change <change>
    When the golden configures reporting of CurrentSummationDelivered with min <min> s, max <max> s and change <change>
    Then the DUT answers Configure Reporting Response with status SUCCESS for the summation
    And Read Reporting Configuration returns min <min> s, max <max> s and change <change>
    When the golden watches the reports while it reads the register every 5 s
    Then no two reports are closer than the minimum interval
    And a report follows the one before it within the maximum interval
    And every report sent before the maximum interval carries the reportable change
    And every reportable change is reported once the minimum interval allows

    Examples:
      | min | max | change  |
      | 0   | 120 | 1       |
      | 60  | 300 | 1       |
      | 10  | 60  | 1       |
      | 10  | 60  | 1000000 |

  @id:TC-MET-1.5 @pics:SE.MTR.S.C00.Rx
  Scenario Outline: Get Profile for <request>, <periods> periods
    When the golden lets the meter record enough intervals for <periods> periods while it reads the register
    And the golden sends Get Profile for <request> with <periods> periods
    Then the DUT answers Get Profile Response with the status the request calls for
    And the response delivers as many intervals as it says, most recent first, ending at the block's end
    And every interval delivered is the consumption the register showed in its period

    Examples:
      | request                   | periods |
      | latest                    | 0       |
      | latest                    | 1       |
      | latest                    | max     |
      | latest                    | max + 1 |
      | before the first interval | 1       |
      | undefined channel         | 1       |
      | received channel          | 1       |

  @id:TC-MET-1.6 @pics:SE.MTR.S.C03.Rx @pics:SE.MTR.S.A000B
  Scenario Outline: Request Fast Poll Mode for <period> s during <duration> minutes
    When the golden reads FastPollUpdatePeriod
    And the golden requests fast poll mode every <period> s for <duration> minutes
    Then the applied update period is the larger of <period> s and FastPollUpdatePeriod
    And fast poll mode ends <duration> minutes away, at most 15 minutes away

    Examples:
      | period | duration |
      | 0      | 1        |
      | 1      | 15       |
      | 3      | 16       |
      | 255    | 255      |

  @id:TC-MET-1.7 @pics:SE.MTR.S
  Scenario: The Status bits are those defined for the MeteringDeviceType
    When the golden reads Status and MeteringDeviceType
    Then Status sets no bit its MeteringDeviceType leaves reserved

  @id:TC-MET-1.8 @pics:SE.MTR.S.A0100
  Scenario: The tier registers together count what the summation counts
    When the golden reads the summation and the claimed tier registers every 15 minutes for the PIXIT summation watch period
    Then no tier register is lower than at the reading before
    And between readings the tier registers together grow by what the summation grows

  @id:TC-MET-1.9 @pics:SE.MTR.S.A0400
  Scenario: The summation grows by the energy the demand served delivers
    When the golden reads UnitofMeasure, Multiplier and Divisor
    And the golden reads CurrentSummationDelivered and InstantaneousDemand every update period for 10 minutes
    Then no reading is lower than the one before it
    And between any two readings the summation rises by the demand served times the time, within one update period's load

  @id:TC-MET-1.10 @pics:SE.MTR.S.C03.Rx @pics:SE.MTR.S.A000B @pics:SE.MTR.S.A000A @pics:SE.MTR.S.A0400
  Scenario Outline: The registers are updated every period in force, before, during and after fast poll at <requested>
    When the golden reads UnitofMeasure, Multiplier and Divisor
    And the golden reads DefaultUpdatePeriod and FastPollUpdatePeriod
    And the golden reads CurrentSummationDelivered and InstantaneousDemand every second for six DefaultUpdatePeriods, at least a minute
    And the golden requests fast poll mode at <requested> for 1 minute
    And the golden reads CurrentSummationDelivered and InstantaneousDemand every second until six DefaultUpdatePeriods, at least a minute, after fast poll mode ends
    Then before fast poll the registers are at most DefaultUpdatePeriod old
    And during fast poll the registers are at most the applied update period old
    And after fast poll mode ends the registers are at most DefaultUpdatePeriod old again

    Examples:
      | requested                  |
      | FastPollUpdatePeriod       |
      | three DefaultUpdatePeriods |
