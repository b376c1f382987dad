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
