@area:openseg
Feature: OpenSEG gateway: the meter's data on the home network, and nothing of the utility's control
  An Open Smart Energy Gateway is the consumer's device paired with the utility meter. It reads only the
  Simple Metering cluster (polling it, or configuring its reports), keeps a 48-hour circular cache, and serves
  the readings (JSON and Green Button) to its home network only, never passing utility control (DRLC, Price,
  Messaging) on. The golden radio plays the Trust Center, the ESI and the meter; the bench is the home
  network's client.
  Sources: LBNL-182358 (OpenSEG design), SE 1.x (Simple Metering, CBKE), NAESB REQ.21 ESPI,
  docs/openseg-api.md (the consumer API profile).

  Background:
    Given the DUT serves the OpenSEG consumer API

  @id:TC-OSEG-1.1
  Scenario: The gateway pairs with the meter's network and completes CBKE before it reads the meter
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then the DUT read the meter only after key establishment completed

  @id:TC-OSEG-2.1
  Scenario: Over an hour the gateway touches only Simple Metering, Basic, Time and Key Establishment
    Given the DUT has joined and completed key establishment
    When 1 hour of network time passes
    Then every ZCL frame the DUT sent to the ESI was on Simple Metering, Basic, Time or Key Establishment

  @id:TC-OSEG-2.2
  Scenario: The gateway never writes to or commands the meter
    Given the DUT has joined and completed key establishment
    When 1 hour of network time passes
    Then the DUT sent the meter no Write Attributes and no cluster command

  @id:TC-OSEG-3.1
  Scenario: Utility DRLC, Price and Messaging frames sent to the gateway never appear on its API
    Given the DUT has joined and completed key establishment
    When the utility sends the DUT a Load Control Event, a Publish Price and a Display Message
    And 1 minute of network time passes
    Then no API resource shows the event, the price or the message
    And the utility-control paths of the API answer 404
    And the DUT passed no DRLC, Price or Messaging command on

  @id:TC-OSEG-3.2
  Scenario: API values equal the meter's, correctly scaled, and no older than the read interval
    Given the DUT has joined and completed key establishment
    When 10 minutes of network time pass
    Then the meter resource shows the meter's unit, Multiplier, Divisor and formatting
    And the summation resource equals a summation the meter served within the read interval plus tolerance
    And the demand resource equals a demand the meter served within the read interval plus tolerance

  @id:TC-OSEG-4.1
  Scenario: After 50 hours the cache holds exactly the last 48 hours with no gaps
    Given the DUT has joined and completed key establishment
    When 50 hours of network time pass
    Then the cached readings of the last 50 hours begin 48 hours ago, within the read interval plus tolerance
    And no two cached readings are further apart than the read interval plus tolerance
    And every cached reading is a value the meter served

  @id:TC-OSEG-5.1
  Scenario: The Green Button export is schema-valid ESPI in Unix time whose intervals add up to the meter's
    Given the DUT has joined and completed key establishment
    When 3 hours of network time pass
    And a home client requests the Green Button export of the last 2 hours
    Then the export is a schema-valid ESPI feed
    And its interval times are Unix seconds inside the requested range
    And its ReadingType is energy in Wh, as deltas, with an ESPI power of ten
    And its interval values add up to the meter's summation delta over the intervals

  @id:TC-OSEG-6.1
  Scenario: A client outside the home network is refused with 403
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then every metering resource answers a foreign client 403 with a JSON error body

  @id:TC-OSEG-6.2
  Scenario: Malformed and oversized requests get 400 and the gateway keeps serving
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then a readings request with a malformed time range is answered 400 with a JSON error body
    And a request line that is not HTTP is answered 400
    And a request with an oversized header is answered with a 4xx status
    And the summation resource is still served afterwards

  @id:TC-OSEG-6.3
  Scenario: Unknown paths and non-metering resources answer 404
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then unknown paths and the utility-control paths answer 404 with a JSON error body

  @id:TC-OSEG-6.4
  Scenario: Methods other than GET answer 405
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then POST and DELETE on the metering resources answer 405 with a JSON error body

  @id:TC-OSEG-7.1
  Scenario: A burst of 20 concurrent clients is served while the meter reads stay on schedule
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    And 20 home clients request the summation at once, 3 times 10 seconds apart
    Then every client was answered 200
    And the DUT took in the meter's readings at the read interval plus tolerance throughout the burst
