@area:messaging @pics:SE.NWK.JOIN
Feature: Messages the ESI displays on the DUT
  The ESI displays messages with Display Message (StartTime 0 = now, Duration 0xFFFF = until changed);
  when MessageControl bit 7 asks for a confirmation, the user's confirmation goes back as Message Confirmation
  with the network time. A message that does not ask for one is never confirmed, a cancelled message is gone,
  and a device that joins asks for the last message.
  A message is shown from its StartTime for its Duration, one at a time: a new MessageID replaces it, a cancel
  takes it away only when it names it. What the DUT shows is judged by what the user can confirm: the user
  confirms through the DUT control (the profile's confirm_message action, which must name the message), and a
  Message Confirmation goes out only for the message on display, so no confirmation before the start, after the
  end or for a replaced message means the message was not shown then, and a confirmation in the same case shows
  the DUT took the message. The profile offers no read of the display, so the importance and transmission bits
  are judged by what the DUT does with the message they mark: it is shown and confirmed like any other.
  Message times are network (ESI) times; waits before a start and after an end add the PIXIT tolerance.
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

  @id:TC-MSG-1.5 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message is not shown before its start time and is shown from it
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 605 starting after the message lead time until changed, asking for confirmation
    And the user confirms message 605 before its start
    Then the DUT sends no Message Confirmation for message 605 within the PIXIT response time
    When the start of message 605 has passed
    And the user confirms message 605
    Then the DUT sends a Message Confirmation for message 605 within the PIXIT response time

  @id:TC-MSG-1.6 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message is no longer shown once its duration has passed
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 616 starting now for 1 minute, asking for confirmation
    And the user confirms message 616
    Then the DUT sends a Message Confirmation for message 616 within the PIXIT response time
    When the ESI displays message 606 starting now for 1 minute, asking for confirmation
    And the end of message 606 has passed
    And the user confirms message 606
    Then the DUT sends no Message Confirmation for message 606 within the PIXIT response time

  @id:TC-MSG-1.7 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message that started in the past is shown for the rest of its duration, and never once it ended
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 617 that started 1 minute ago and lasts 2 minutes, asking for confirmation
    And the user confirms message 617
    Then the DUT sends a Message Confirmation for message 617 within the PIXIT response time
    When the ESI displays message 607 that started 2 minutes ago and lasts 1 minute, asking for confirmation
    And the user confirms message 607
    Then the DUT sends no Message Confirmation for message 607 within the PIXIT response time

  @id:TC-MSG-1.8 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A message with a new MessageID replaces the message on display
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 608 starting now until changed, asking for confirmation
    And the ESI displays message 618 starting now until changed, asking for confirmation
    And the user confirms message 608
    Then the DUT sends no Message Confirmation for message 608 within the PIXIT response time
    When the user confirms message 618
    Then the DUT sends a Message Confirmation for message 618 within the PIXIT response time

  @id:TC-MSG-1.9 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: A cancel naming another message leaves the message on display
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 609 starting now until changed, asking for confirmation
    And the ESI cancels message 619 and waits the PIXIT response time
    And the user confirms message 609
    Then the DUT sends a Message Confirmation for message 609 within the PIXIT response time

  @id:TC-MSG-1.10 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: ConfirmationTime is when the user confirmed, not when the message was shown
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 610 starting now until changed, asking for confirmation
    And one minute later the user confirms message 610
    Then the DUT sends a Message Confirmation for message 610 within the PIXIT response time
    And its ConfirmationTime is the network time of the user's confirmation, not of the message's display

  @id:TC-MSG-1.11 @pics:SE.MSG.C.C00.Tx @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario: When the ESI has no message, the DUT takes its NOT_FOUND answer to Get Last Message and goes on
    Given the ESI has no last message
    And the DUT has joined and completed key establishment
    Then the DUT sends Get Last Message to the ESI within the PIXIT application start time
    And the DUT does not ask for the last message again within the PIXIT response time of the ESI's NOT_FOUND
    When the ESI displays message 611 starting now until changed, asking for confirmation
    And the user confirms message 611
    Then the DUT sends a Message Confirmation for message 611 within the PIXIT response time

  @id:TC-MSG-1.12 @pics:SE.MSG.C.C00.Rx @pics:SE.MSG.C.C01.Tx
  Scenario Outline: A message is shown and confirmed whatever its importance and transmission bits
    Given the DUT has joined and completed key establishment
    And the DUT has started its applications
    When the ESI displays message 612 starting now until changed with <importance> importance over <transmission> transmission, asking for confirmation
    And the user confirms message 612
    Then the DUT sends a Message Confirmation for message 612 within the PIXIT response time

    Examples:
      | importance | transmission           |
      | low        | normal                 |
      | medium     | normal                 |
      | high       | normal                 |
      | critical   | normal                 |
      | critical   | normal and Inter-PAN   |
