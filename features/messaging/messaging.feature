@area:messaging
Feature: Messages the ESI displays on the DUT
  The ESI displays messages with Display Message (StartTime 0 = now, Duration 0xFFFF = until changed);
  when MessageControl bit 7 asks for a confirmation, the user's confirmation goes back as Message Confirmation
  with the network time. A message that does not ask for one is never confirmed, a cancelled message is gone,
  and a device that joins asks for the last message.
  Sources: SE 1.x Annex D.5 (Messaging cluster), reference client behaviour (Silicon Labs messaging-client).

  Background:
    Given the golden Trust Center has formed the Smart Energy network

  @id:TC-MSG-1.1 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message that asks for confirmation is confirmed with the network time when the user confirms it
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 601 starting now until changed, asking for confirmation
    And the user confirms message 601
    Then the DUT sends a Message Confirmation for message 601 within the PIXIT response time
    And its ConfirmationTime is within the PIXIT tolerance of its arrival

  @id:TC-MSG-1.2 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message that does not ask for confirmation is never confirmed
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 602 starting now until changed, without asking for confirmation
    And the user confirms message 602
    Then the DUT sends no Message Confirmation for message 602 within the PIXIT response time

  @id:TC-MSG-1.3 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A cancelled message can no longer be confirmed
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 603 starting now until changed, asking for confirmation
    And the ESI cancels message 603 and waits the PIXIT response time
    And the user confirms message 603
    Then the DUT sends no Message Confirmation for message 603 within the PIXIT response time

  @id:TC-MSG-1.4 @pics:SE.MSG.C.C00.Tx
  Scenario: After joining the DUT asks the ESI for the last message
    Given the ESI's last message is message 604
    And the DUT has joined and completed key establishment
    Then the DUT sends Get Last Message to the ESI within the PIXIT application start time
