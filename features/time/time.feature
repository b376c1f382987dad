@area:time
Feature: Network time taken from the ESI
  A Smart Energy device takes its time from the ESI's Time server (Time, TimeStatus master/synchronized),
  not from its own clock: event start times, EventStatusTime, PriceAckTime and ConfirmationTime are network
  time. The golden ESI serves a time one hour ahead of the bench clock, so a DUT that kept its own clock
  shows it.
  Sources: SE 1.x 5.12 and Annex D (Time cluster use), SE-FACTS "Time".

  Background:
    Given the golden Trust Center has formed the Smart Energy network

  @id:TC-TIME-1.1 @pics:SE.TIME.C
  Scenario: After joining the DUT reads the ESI's time
    Given the DUT has joined and completed key establishment
    Then the DUT reads the Time attribute of the ESI's Time server within the PIXIT application start time

  @id:TC-TIME-1.2 @pics:SE.TIME.C @pics:SE.DRLC.C.C00.Rx
  Scenario: Load control events run on the ESI's time
    Given the ESI's network time is 1 hour ahead of the bench clock
    And the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI issues event 701 starting after the PIXIT lead time in network time
    Then the DUT reports status 0x02 for event 701 at its start in network time
    And the EventStatusTime of every status for event 701 is the network time of its arrival

  @id:TC-TIME-1.3 @pics:SE.TIME.C @pics:SE.PRICE.C.C02.Tx
  Scenario: Price acknowledgements carry the ESI's time
    Given the ESI's network time is 1 hour ahead of the bench clock
    And the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI publishes price 702 starting now until changed, asking for acknowledgement
    Then the PriceAckTime of the acknowledgement of price 702 is the network time of its arrival

  @id:TC-TIME-1.4 @pics:SE.TIME.C @pics:SE.MSG.C.C01.Tx
  Scenario: Message confirmations carry the ESI's time
    Given the ESI's network time is 1 hour ahead of the bench clock
    And the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 703 starting now until changed, asking for confirmation
    And the user confirms message 703
    Then the ConfirmationTime of the confirmation of message 703 is the network time of its arrival
