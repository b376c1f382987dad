@area:esi
Feature: The ESI's servers: Time, Price, DRLC and Messaging
  An Energy Services Interface serves the home's network clock, its tariff, its load control program and its
  messages. The golden plays the HAN clients (an IHD-like reader, a PCT- or load-control-like DRLC client, a Price,
  Messaging and Time client): it asks the DUT what those clients ask and judges every field of every frame the DUT
  answers with. What an ESI serves comes from its operator (the utility's head end): the DUT control actions
  publish_price, issue_event and display_message ask for it (a CLI command, an operator prompt, or the reference
  device's head end), and the golden learns the ids from the answers.
  Rules:
  - Time (ZCL 07-5123 3.12.2.2, SE-FACTS "Time"; DSR ZBOSS zcl_time.c): Time is UTC, within the PIXIT
    esi_clock_tolerance of the bench clock; TimeStatus sets Master, Synchronized and MasterZoneDst as the PICS
    claim them (SE.TIME.S.MASTER, .SYNCHRONIZED, .MASTERZONEDST), never Synchronized beside Master, and no bit
    above 3; StandardTime = Time + TimeZone and LocalTime = StandardTime + DstShift while DstStart <= Time <
    DstEnd, so ZCL UTC and the ESI's local time agree.
  - Price (SE-FACTS "Price"; SE 1.x Annex D.4.2): a Publish Price carries the ESI's time in CurrentTime, a
    RateLabel of at most 11 bytes, a defined UnitOfMeasure, an ISO 4217 currency (1-999), a price tier within the
    number of tiers (at most 15); Get Current Price is answered with the price in force (started, its duration not
    run out or 0xFFFF until changed); Get Scheduled Prices with the prices in force or to come, at most
    NumberOfEvents of them (0: all), each once, earliest first (so the price in force first, with the fields Get
    Current Price gave but CurrentTime); a Price Acknowledgement is taken without an error status.
  - DRLC (SE-FACTS "DRLC cluster 0x0701"; SE 1.x Annex D.2.2): Get Scheduled Events is answered with the events in
    force or to come, at most NumberOfEvents (0: all), each with a duration of at most 1440 minutes, a criticality
    of 1-15 and device class bits within 0-11; a Report Event Status is taken without an error status.
  - Messaging (SE-FACTS "Messaging"; SE 1.x Annex D.5): Get Last Message is answered with the last message, its
    MessageControl without the reserved bits 4-6; a Message Confirmation is taken without an error status.
  Decisions where the issue left it open: "taken without error" means no Default Response with a status other than
  SUCCESS within the PIXIT response time (a Default Response SUCCESS or none, as the request's Disable Default
  Response bit allows); a scheduled answer is collected for the PIXIT response time after the request.

  Background:
    Given the DUT shares the golden's Smart Energy network and a CBKE link key

  @id:TC-ESI-1.1 @pics:SE.TIME.S
  Scenario: The ESI's Time is UTC and its TimeStatus says what the PICS claim
    When the golden reads the ESI's Time and TimeStatus
    Then Time is within the PIXIT ESI clock tolerance of the bench clock's UTC
    And TimeStatus sets the Master, Synchronized and MasterZoneDst bits as the PICS claim
    And TimeStatus sets Synchronized only without Master, and no bit above 3

  @id:TC-ESI-1.2 @pics:SE.TIME.S.A0002 @pics:SE.TIME.S.A0007
  Scenario: The ESI's local time follows its TimeZone and daylight saving
    When the golden reads the ESI's Time, TimeZone, DST and local time attributes
    Then TimeZone and DstShift lie within a day and DstStart lies before DstEnd, one season of the current year
    And StandardTime is Time plus TimeZone and LocalTime adds DstShift while daylight saving is in force

  # PriceControl (SE 1.1 Annex D.4.2.4.1, Table D-100 "Price Control Field BitMap": bit 0 Price Acknowledgement
  # required, bit 1 Total Tiers exceeds the 15 specified in the command; the other bits reserved; as Exegin zcl.price.h,
  # ZBOSS zb_zcl_price.h and zsmartsystems PriceControlMaskBitmap carry them) says what holds, so a bit is set only
  # where its condition does: bit 1 only in a Publish Price whose SE 1.2 ExtendedNumberOfPriceTiers field is present
  # and names more than 15 tiers (0x00 "refer to the NumberOfPriceTiers field", 0x01 16 tiers ... as ZigbeeNet's
  # ExtendedNumberOfPriceTiersEnum lists them), and set whenever that field names more than 15; bit 0, which asks the
  # client for a Price Acknowledgement, only by an ESI that takes one (its PICS claim SE.PRICE.S.C02.Rx).
  @id:TC-ESI-2.1 @pics:SE.PRICE.S
  Scenario: Get Current Price is answered with the price in force
    Given the ESI's operator publishes a price to come
    When the golden sends Get Current Price
    Then the DUT answers with a Publish Price whose fields are in range
    And the price answered is in force now
    And its PriceControl sets each bit only where its condition holds

  @id:TC-ESI-2.2 @pics:SE.PRICE.S.C01.Rx
  Scenario Outline: Get Scheduled Prices for <count> prices is answered with the prices in force or to come
    Given the ESI's operator publishes a price to come
    When the golden sends Get Current Price
    And the golden sends Get Scheduled Prices from now for <count> prices
    Then the DUT answers with Publish Price commands whose fields are in range
    And it answers with as many prices as asked for, each once, none ended
    And the price in force comes first, as Get Current Price gave it

    Examples:
      | count |
      | 0     |
      | 1     |

  @id:TC-ESI-2.3 @pics:SE.PRICE.S.C02.Rx
  Scenario: A Price Acknowledgement is taken without error
    When the golden sends Get Current Price
    And the golden acknowledges the price it was sent
    Then the DUT answers the acknowledgement with no error status

  # As time passes, the ESI's answers follow the schedule it announced (a mutation survivor of the fourth run: an
  # ESI whose published price ended in its own view a second after its start, answered only at publishing time).
  @id:TC-ESI-2.4 @pics:SE.PRICE.S @pics:SE.PRICE.S.C01.Rx
  Scenario: A minute into a price it scheduled, the ESI answers Get Current Price with that price
    Given the ESI's operator publishes a price to come
    When the golden sends Get Scheduled Prices from now for 0 prices
    And network time passes to a minute into the last-starting price the ESI scheduled
    And the golden sends Get Current Price
    Then the DUT answers with a Publish Price whose fields are in range
    And the price answered is that scheduled price

  # A price of Duration 0xFFFF has no end of its own: it stays the price in force until a later price supersedes it
  # (SE 1.x Annex D.4.2, Publish Price DurationInMinutes 0xFFFF: until changed; Silicon Labs price-server.h,
  # ZCL_PRICE_CLUSTER_DURATION_UNTIL_CHANGED). A mutation survivor of the fourth run: an ESI that read 0xFFFF as
  # 65535 minutes and dropped its standing price 45.5 days after its start. Asked on both sides of that end: 65534
  # minutes into the price (where a price of the longest finite Duration, 0xFFFE, is still in force) and 46 days
  # after the ESI first answered it (past 0xFFFF minutes from its StartTime, however long before that it started).
  # For an ESI that holds such a price (SE.PRICE.S.STANDING). 46 days of network time: seconds in simulation.
  @id:TC-ESI-2.5 @pics:SE.PRICE.S @pics:SE.PRICE.S.STANDING
  Scenario: An until-changed price is still the price in force 46 days on
    When the golden sends Get Current Price
    Then the price answered stands until changed
    When network time passes to 65534 minutes into that price
    And the golden sends Get Current Price
    Then the DUT answers with a Publish Price whose fields are in range
    And the price answered is that until-changed price, still until changed
    When network time passes to 46 days after the ESI first answered that price
    And the golden sends Get Current Price
    Then the DUT answers with a Publish Price whose fields are in range
    And the price answered is that until-changed price, still until changed

  @id:TC-ESI-3.1 @pics:SE.DRLC.S
  Scenario Outline: Get Scheduled Events for <count> events is answered with valid events
    Given the ESI's operator issues 2 load control events
    When the golden sends Get Scheduled Events from now for <count> events
    Then the DUT answers with Load Control Events whose fields are in range
    And it answers with as many events as asked for, each once, none ended

    Examples:
      | count |
      | 0     |
      | 1     |

  @id:TC-ESI-3.2 @pics:SE.DRLC.S
  Scenario: A Report Event Status is taken without error
    Given the ESI's operator issues 1 load control events
    When the golden sends Get Scheduled Events from now for 1 events
    And the golden reports status 0x01 for the event it was sent
    Then the DUT answers the report with no error status

  # An event the ESI issued leaves its schedule once it has ended, and only then (a fourth-run survivor: an ESI
  # whose events ended 61 minutes per minute of duration).
  @id:TC-ESI-3.3 @pics:SE.DRLC.S
  Scenario: Once an event has ended, Get Scheduled Events no longer answers it, and still answers those to come
    Given the ESI's operator issues 2 load control events
    When the golden sends Get Scheduled Events from now for 0 events
    And network time passes to just after the end of the first event the ESI scheduled
    And the golden sends Get Scheduled Events from now for 0 events
    Then the DUT answers with Load Control Events whose fields are in range
    And it answers with no event that has ended by now, and with every event still to end

  @id:TC-ESI-4.1 @pics:SE.MSG.S
  Scenario: Get Last Message is answered with the last message
    Given the ESI's operator displays a message
    When the golden sends Get Last Message
    Then the DUT answers with a Display Message whose fields are in range

  @id:TC-ESI-4.2 @pics:SE.MSG.S
  Scenario: A Message Confirmation is taken without error
    Given the ESI's operator displays a message
    When the golden sends Get Last Message
    And the golden confirms the message it was sent
    Then the DUT answers the confirmation with no error status
