@area:price
Feature: Prices published by the ESI
  The ESI publishes the utility's prices with Publish Price (StartTime 0 = now, Duration 0xFFFF = until
  changed); a device that joins asks for the current price, and acknowledges every price whose PriceControl
  asks for it with a Price Acknowledgement carrying the network time. A repeated price is not taken twice, and
  a price older than one it overlaps is refused.
  Sources: SE 1.x Annex D.4 (Price cluster), reference client behaviour (Silicon Labs price-client plugin).

  Background:
    Given the golden Trust Center has formed the Smart Energy network

  @id:TC-PRICE-1.1 @pics:SE.PRICE.C.C00.Tx
  Scenario: After joining the DUT asks the ESI for the current price
    Given the ESI has a current price 501 until changed
    And the DUT has joined and completed key establishment
    Then the DUT sends Get Current Price to the ESI within the PIXIT application start time

  @id:TC-PRICE-1.2 @pics:SE.PRICE.C.C00.Rx @pics:SE.PRICE.C.C02.Tx
  Scenario: A price starting now until changed is acknowledged with the network time
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI publishes price 502 starting now until changed, asking for acknowledgement
    Then the DUT acknowledges price 502 within the PIXIT response time
    And the acknowledgement names the price's provider and carries a PriceAckTime within the PIXIT tolerance

  @id:TC-PRICE-1.3 @pics:SE.PRICE.C.C00.Rx @pics:SE.PRICE.C.C02.Tx
  Scenario: A repeated price is not taken twice
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI publishes price 503 starting in 10 minutes for 60 minutes, asking for acknowledgement
    Then the DUT acknowledges price 503 within the PIXIT response time
    When the ESI publishes price 503 again
    Then the DUT does not acknowledge price 503 a second time within the PIXIT response time

  @id:TC-PRICE-1.4 @pics:SE.PRICE.C.C00.Rx @pics:SE.PRICE.C.C02.Tx
  Scenario: A price older than the one it overlaps is refused
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI publishes price 505 starting now until changed, asking for acknowledgement
    Then the DUT acknowledges price 505 within the PIXIT response time
    When the ESI publishes price 504 starting now until changed, asking for acknowledgement
    Then the DUT does not acknowledge price 504 within the PIXIT response time
