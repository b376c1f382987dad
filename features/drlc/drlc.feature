@area:drlc @pics:SE.NWK.JOIN
Feature: Demand response and load control events
  The utility's ESI sends load control events to the device; the device filters them by device class and
  utility enrollment group, validates them, schedules them, randomizes their start and end when asked, runs
  them and reports every step with Report Event Status (01 received, 02 started, 03 completed, 04/05 opted
  out/in, 06 cancelled, 07 superseded, 08/09 partially completed, FB expired, FD unknown event on cancel,
  F9 invalid effective time, FE rejected). The golden ESI judges each status by its arrival on the golden
  clock, within the tolerance the DUT's PIXITs give; event durations and lead times come from PIXITs too, so
  a hardware bench runs the same cases with short events.
  Every field of every Report Event Status a case sees, whatever its status (received, started, completed,
  cancelled, superseded, rejected), is judged against the event and the DUT's claims by one shared judge
  (harness/verify/drlc.py; each scenario's last step; TC-DRLC-1.22 judges its field groups one by one): the
  status is a defined code; EventStatusTime is the network time of the status within the PIXIT tolerance,
  randomized starts and ends included; the criticality level applied is the event's; each set point, the
  average load adjustment and the duty cycle applied are the event's value or the field's "not used" value (0x8000, 0x80, 0xFF: the profile has no claim
  of which controls a DUT applies, so either is accepted, and nothing else); EventControl is the event's; the
  SignatureType is 0x01 (ECDSA) when the PICS claim SE.DRLC.C.SIGN and 0x00 otherwise, and an unsigned report's
  42-byte Signature is a uniform fill: 0xFF (what SE 1.1 and later reference code sends) or 0x00, never other
  bytes; a signed report's signature verifies. A 0xFD (cancel of an event the DUT does not know) has no event to
  echo: its applied fields are zero or "not used", its level 0 and its EventControl 0 (decided here; the
  reference client sends zeros).
  Sources: SE 1.x Annex D.2 (DRLC cluster), reference client behaviour (Silicon Labs drlc plugin).

  Background:
    Given the golden Trust Center has formed the Smart Energy network
    And the DUT has joined and completed key establishment
    And the DUT has started its applications

  @id:TC-DRLC-1.1 @pics:SE.DRLC.C.C00.Rx
  Scenario: A scheduled event is received, started at its start time and completed at its end
    When the ESI issues event 101 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 101 within the PIXIT response time
    And the DUT reports status 0x02 for event 101 at the event's start
    And the DUT reports status 0x03 for event 101 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.2 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event with start time "now" starts at once and completes after its duration
    When the ESI issues event 102 starting now
    Then the DUT reports status 0x01 for event 102 within the PIXIT response time
    And the DUT reports status 0x02 for event 102 at the event's start
    And the DUT reports status 0x03 for event 102 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.3 @pics:SE.DRLC.C.C00.Rx
  Scenario: Randomized starts and ends stay inside the DUT's randomization windows
    Given the ESI sets the DUT's start and duration randomization to the PIXIT randomization window
    When the ESI issues the PIXIT number of randomized events one after another
    Then every randomized event starts within the start randomization window after its start time
    And every randomized event ends within the duration randomization window after its randomized end
    And the start offsets of the randomized events are not all zero
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.4 @pics:SE.DRLC.C.C00.Rx
  Scenario Outline: An event for another <target> is ignored
    Given the DUT's utility enrollment group is 5
    When the ESI issues event 104 starting now for another <target>
    Then the DUT reports no status for event 104 within the PIXIT response time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

    Examples:
      | target           |
      | device class     |
      | enrollment group |

  @id:TC-DRLC-1.5 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event that has already ended is rejected as expired
    When the ESI issues event 105 that ended before now
    Then the DUT reports status 0xFB for event 105 within the PIXIT response time
    And the DUT reports no status other than 0xFB for event 105
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # The first illegal duration, sent alone (SE 1.x Annex D.2.2 (Load Control Event): DurationInMinutes at most 1440
  # (0x05A0); reference client load-control-event-table.c: duration > 0x5A0 -> 0xFE, "Load Control Event command
  # Rejected"; 0xFB is an event received after it expired, 0xF8/0xF9/0xFD are cancels'). TC-DRLC-1.23 judges the
  # last legal value.
  @id:TC-DRLC-1.6 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event longer than 1440 minutes is rejected
    When the ESI issues event 106 starting now and lasting 1441 minutes
    Then the DUT reports status 0xFE for event 106 within the PIXIT response time
    And the DUT reports no status other than 0xFE for event 106
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.7 @pics:SE.DRLC.C.C00.Rx
  Scenario: A repeated event is not processed twice
    When the ESI issues event 107 starting after the PIXIT lead time
    And the ESI issues event 107 again
    Then the DUT reports status 0x01 for event 107 within the PIXIT response time
    And the DUT reports status 0x02 for event 107 at the event's start
    And the DUT has reported status 0x01 for event 107 only once
    And the DUT has reported status 0x02 for event 107 only once
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.8 @pics:SE.DRLC.C.C01.Rx
  Scenario: An event cancelled before its start is reported cancelled and never starts
    When the ESI issues event 108 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 108 within the PIXIT response time
    When the ESI cancels event 108 with effective time now
    Then the DUT reports status 0x06 for event 108 at the effective time
    And the DUT does not report status 0x02 for event 108 by the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.9 @pics:SE.DRLC.C.C01.Rx
  Scenario: A running event cancelled at an effective time stops then
    When the ESI issues event 109 starting now
    Then the DUT reports status 0x02 for event 109 at the event's start
    When the ESI cancels event 109 with effective time halfway through the event
    Then the DUT reports status 0x06 for event 109 at the effective time
    And the DUT does not report status 0x03 for event 109 by the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.10 @pics:SE.DRLC.C.C01.Rx
  Scenario: Cancelling an event the DUT does not know is rejected as undefined
    When the ESI cancels event 110 with effective time now
    Then the DUT reports status 0xFD for event 110 within the PIXIT response time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.11 @pics:SE.DRLC.C.C01.Rx
  Scenario: A cancel whose effective time is after the event's end is rejected
    When the ESI issues event 111 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 111 within the PIXIT response time
    When the ESI cancels event 111 with effective time after the event's end
    Then the DUT reports status 0xF9 for event 111 within the PIXIT response time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.12 @pics:SE.DRLC.C.C02.Rx
  Scenario: Cancel All cancels every scheduled event
    When the ESI issues event 112 starting after the PIXIT lead time
    And the ESI issues event 113 starting after event 112 ends
    Then the DUT reports status 0x01 for event 112 within the PIXIT response time
    And the DUT reports status 0x01 for event 113 within the PIXIT response time
    When the ESI cancels all events
    Then the DUT reports status 0x06 for event 112 within the PIXIT response time
    And the DUT reports status 0x06 for event 113 within the PIXIT response time
    And the DUT does not report status 0x02 for event 112 by the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.13 @pics:SE.DRLC.C.C00.Rx
  Scenario: A newer overlapping event supersedes a scheduled one
    When the ESI issues event 114 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 114 within the PIXIT response time
    When the ESI issues event 115 starting halfway through event 114
    Then the DUT reports status 0x07 for event 114 within the PIXIT response time
    And the DUT reports status 0x01 for event 115 within the PIXIT response time
    And the DUT does not report status 0x02 for event 114 by the event's start
    And the DUT reports status 0x02 for event 115 at the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.14 @pics:SE.DRLC.C.C00.Rx
  Scenario: A user who opts out before the start is reported opted out at the start, and not participating at the end
    When the ESI issues event 116 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 116 within the PIXIT response time
    When the user opts out of event 116
    Then the DUT reports status 0x04 for event 116 at the event's start
    And the DUT has not reported status 0x02 for event 116
    And the DUT reports status 0x0A for event 116 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Issuer Event IDs at their boundaries (SE 1.x D.2.2.3.1: an unsigned 32-bit field): 1.15 the first id past
  # the signed 32-bit range, 1.16 the largest.
  @id:TC-DRLC-1.15 @pics:SE.DRLC.C.C00.Rx
  Scenario: A user who opts out of a running event ends it partially completed
    When the ESI issues event 2147483648 starting now
    Then the DUT reports status 0x02 for event 2147483648 at the event's start
    When the user opts out of event 2147483648
    Then the DUT reports status 0x04 for event 2147483648 within the PIXIT response time
    And the DUT reports status 0x08 for event 2147483648 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.16 @pics:SE.DRLC.C.C00.Rx
  Scenario: A user who opts back in is reported opted in and the event ends partially completed
    When the ESI issues event 4294967295 starting now
    Then the DUT reports status 0x02 for event 4294967295 at the event's start
    When the user opts out of event 4294967295
    Then the DUT reports status 0x04 for event 4294967295 within the PIXIT response time
    When the user opts into event 4294967295
    Then the DUT reports status 0x05 for event 4294967295 within the PIXIT response time
    And the DUT reports status 0x09 for event 4294967295 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.17 @pics:SE.DRLC.C.C01.Tx
  Scenario: After a rejoin the DUT asks for scheduled events and picks up a pending one
    Given the ESI holds event 119 starting after the PIXIT lead time without sending it
    When the DUT is told to rejoin the network
    Then the DUT reports status 0x01 for event 119 within the PIXIT rejoin time
    And the DUT reports status 0x02 for event 119 at the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.18 @pics:SE.DRLC.C.C00.Rx
  Scenario: Every EventStatusTime is the golden clock's time of the status
    When the ESI issues event 120 starting now
    Then the DUT reports status 0x01 for event 120 within the PIXIT response time
    And the DUT reports status 0x02 for event 120 at the event's start
    And every status for event 120 carries an EventStatusTime within the PIXIT tolerance of its arrival
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.19 @pics:SE.DRLC.C.C00.Rx
  Scenario: A day of load control events runs on schedule
    When the ESI issues the PIXIT schedule of events over the PIXIT schedule span
    Then every scheduled event is reported received, started at its start and completed at its end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.20 @pics:SE.DRLC.C.C00.Rx
  Scenario Outline: A load control event not protected by the CBKE link key is not acted on
    When the ESI sends event 121 starting now under <protection>
    Then the DUT does not act on event 121 within the PIXIT response time
    When the ESI issues event 122 starting now
    Then the DUT reports status 0x01 for event 122 within the PIXIT response time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

    Examples:
      | protection                |
      | its install-code link key |
      | no APS security           |

  @id:TC-DRLC-1.21 @pics:SE.DRLC.C.C00.Rx @pics:SE.DRLC.C.SIGN
  Scenario: A DUT that signs its event status signs every report with its own certificate's key
    When the ESI issues event 123 starting after the PIXIT lead time
    Then the DUT reports status 0x01 for event 123 within the PIXIT response time
    And the DUT reports status 0x02 for event 123 at the event's start
    And every status for event 123 carries an ECDSA signature that verifies with the DUT's certificate
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.22 @pics:SE.DRLC.C.C00.Rx
  Scenario: Every Report Event Status says what the DUT applied of the event, with the signature it claims
    When the ESI issues event 130 starting after the PIXIT lead time with every load control field set
    Then the DUT reports status 0x01 for event 130 within the PIXIT response time
    And the DUT reports status 0x02 for event 130 at the event's start
    And every status for event 130 reports the event's criticality level as applied
    And every status for event 130 reports each set point, the load adjustment and the duty cycle as applied or not used
    And every status for event 130 carries the event's EventControl
    And every status for event 130 carries the SignatureType the DUT's PICS claim, and a uniform fill when unsigned
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Duration boundaries (SE 1.x Annex D.2.2 (Load Control Event): DurationInMinutes 0x0000-0x05A0; reference client
  # load-control-event-table.c rejects duration > 0x5A0 with 0xFE): TC-DRLC-1.6 judges the first illegal
  # value, this case the last legal one, run to its end (on a bench, a day, as TC-DRLC-1.19).
  @id:TC-DRLC-1.23 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event lasting 1440 minutes, the longest, is accepted and runs its whole duration
    When the ESI issues event 140 starting now and lasting 1440 minutes
    Then the DUT reports status 0x01 for event 140 within the PIXIT response time
    And the DUT reports status 0x02 for event 140 at the event's start
    And the DUT reports status 0x03 for event 140 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # StartTime 0xFFFFFFFF is invalid (SE 1.x Annex D.2.2 (Load Control Event); reference client: rejected with 0xFE). Decided
  # here: the last legal value below it (0xFFFFFFFE, the year 2136) is not judged, since start + duration
  # overflows 32 bits there and no DR program schedules an event that far.
  @id:TC-DRLC-1.24 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event with the invalid StartTime 0xFFFFFFFF is rejected and nothing else follows
    When the ESI issues event 141 with StartTime 0xFFFFFFFF
    Then the DUT reports status 0xFE for event 141 within the PIXIT response time
    And the DUT reports no status other than 0xFE for event 141
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Criticality levels (SE 1.x Annex D.2.2 (Load Control Event, Criticality Level table)): 1 green, 2-6 levels 1-5, 7 emergency, 8 planned
  # outage, 9 service disconnect, 0x0A-0x0F utility defined; each value class and both ends of each range.
  @id:TC-DRLC-1.25 @pics:SE.DRLC.C.C00.Rx
  Scenario: Events at every class of defined criticality level, utility-defined ones included, run and report their level
    When the ESI issues one event at each criticality level 0x01 0x02 0x06 0x07 0x08 0x09 0x0A 0x0F one after another
    Then every event of the criticality levels is reported received and started at its start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Reserved criticality levels (0x00, 0x10-0xFF): the reference client ignores the event (Silicon Labs drlc:
  # "Reserved criticality level. Ignoring."); a device that rejects it with 0xFE also passes. Acting on it (0x01,
  # 0x02) fails: a DR program never asks for an undefined level. A legal event afterwards shows the DUT listens.
  @id:TC-DRLC-1.26 @pics:SE.DRLC.C.C00.Rx
  Scenario: Events at reserved criticality levels are not acted on
    When the ESI issues event 150 starting now at criticality level 0x00
    And the ESI issues event 151 starting now at criticality level 0x10
    Then the DUT reports no status other than 0xFE for event 150
    And the DUT reports no status other than 0xFE for event 151
    When the ESI issues event 152 starting now
    Then the DUT reports status 0x01 for event 152 within the PIXIT response time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # EventControl bit 0 randomizes the start, bit 1 the end, and nothing else does (SE 1.x Annex D.2.2, Load
  # Control Event; reference client: startRand and durationRand drawn only for their bit), whatever the windows
  # hold: an event that asks for one is judged exact on the other (both windows set to the PIXIT window).
  @id:TC-DRLC-1.27 @pics:SE.DRLC.C.C00.Rx
  Scenario: The start and the end are randomized only when EventControl asks
    Given the ESI sets the DUT's start and duration randomization to the PIXIT randomization window
    When the ESI issues 3 events each with a randomized start only and a randomized end only, one after another
    Then every such event starts at its start time, or within the start window when its start is randomized
    And every such event ends its duration after its start, or within the duration window when its end is randomized
    And the randomized offsets of each kind are not all zero
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # CancelControl bit 0 (SE 1.x Annex D.2.2 (Cancel Load Control Event)): end a running event with the randomization of the original
  # event; 0: at the effective time. Reference client (CCB 1513): the event's end offset (else its start offset).
  @id:TC-DRLC-1.28 @pics:SE.DRLC.C.C01.Rx
  Scenario: A cancel with randomization ends a running event within the duration window, one without at its effective time
    Given the ESI sets the DUT's start and duration randomization to the PIXIT randomization window
    When the ESI cancels 3 running events with a randomized end one after another, with randomization, effective now
    Then every such event is reported cancelled within the duration window after the cancel's effective time
    And the cancel offsets are not all zero
    When the ESI issues event 185 starting now with a randomized end
    Then the DUT reports status 0x02 for event 185 at the event's start
    When the ESI cancels event 185 with effective time now
    Then the DUT reports status 0x06 for event 185 at the effective time
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # A running event overlapped by a newer one runs on and is superseded when the new event starts (SE 1.x
  # Annex D.2, rules and guidelines for overlapping events; reference client: 07 one second before the new start).
  @id:TC-DRLC-1.29 @pics:SE.DRLC.C.C00.Rx
  Scenario: A running event is superseded when a newer overlapping event starts, not before
    When the ESI issues event 190 starting now
    Then the DUT reports status 0x02 for event 190 at the event's start
    When the ESI issues event 191 starting halfway through event 190
    Then the DUT reports status 0x01 for event 191 within the PIXIT response time
    And the DUT reports status 0x07 for event 190 at the start of event 191
    And the DUT reports status 0x02 for event 191 at the event's start
    And the DUT does not report status 0x03 for event 190 by the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Overlap needs a common device class (CCB 1291): an event for a device class the DUT does not have is not
  # the DUT's and cannot supersede its own. Decided here: the DUT's event names the DUT's own classes only.
  @id:TC-DRLC-1.30 @pics:SE.DRLC.C.C00.Rx
  Scenario: An overlapping event for another device class does not supersede the DUT's event
    When the ESI issues event 200 starting after the PIXIT lead time for the DUT's device class
    Then the DUT reports status 0x01 for event 200 within the PIXIT response time
    When the ESI issues event 201 starting halfway through event 200 for another device class
    Then the DUT reports no status for event 201 within the PIXIT response time
    And the DUT reports status 0x02 for event 200 at the event's start
    And the DUT reports status 0x03 for event 200 at the event's end
    And the DUT has not reported status 0x07 for event 200
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # After joining, a DRLC client asks the ESI for the events it missed (SE 1.x Annex D.2.3 (DRLC client commands), Get Scheduled
  # Events; reference client and ESI). StartTime 0 is "now"; any earlier time also covers the running events, a
  # later one would miss them. NumberOfEvents: 0 (all) or any count, each legal.
  @id:TC-DRLC-1.31 @pics:SE.DRLC.C.C01.Tx
  Scenario: A factory-new DUT asks for scheduled events when it first joins and picks up a pending one
    Given the ESI holds event 210 starting after the PIXIT lead time without sending it
    And the DUT is factory new
    And the DUT has joined and completed key establishment
    Then the DUT sends Get Scheduled Events from now or earlier within the PIXIT application start time
    And the DUT reports status 0x01 for event 210 within the PIXIT rejoin time
    And the DUT reports status 0x02 for event 210 at the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # What a DUT reports it applied is what it does, where its control interface shows it (DUT profile
  # control.commands.read_actuation; the simulated devices show it): a thermostat's set points, a load switch's
  # duty cycle and load adjustment. Each value shown is the event's where the reports claim it applied, the
  # device's own where they say "not used", and the device's own again once the event ends. Decided here: names
  # the suite does not know are not judged; a DUT whose control interface shows nothing is not applicable.
  @id:TC-DRLC-1.32 @pics:SE.DRLC.C.C00.Rx
  Scenario: While an event runs, the DUT's control interface shows the actuation its reports claim
    Given the DUT's control interface shows its actuation
    When the ESI issues event 220 starting now with every load control field set
    Then the DUT reports status 0x02 for event 220 at the event's start
    And the DUT's control interface shows what event 220's reports claim it applied
    When the ESI cancels event 220 with effective time now
    Then the DUT reports status 0x06 for event 220 at the effective time
    And the DUT's control interface shows its own actuation again
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Reserved controls (issue 18). Duty Cycle is the share of the time a load may be on and Average Load Adjustment
  # Percentage a limit relative to the load's average use (SE 1.x Annex D.2.2 (Load Control Event); field
  # descriptions as in ZBOSS zb_zcl_drlc.h): 0-100 % and -100..+100 %, 0xFF and 0x80 meaning "not used"; every other
  # value is reserved. The SE 1.x text the suite can cite names no status for them, and the reference client
  # (Silicon Labs drlc) neither checks nor clamps them: it schedules the event and echoes the value as applied.
  # Decided here, as a utility's DR engineer would: a device never applies, nor reports applied, a reserved control.
  # Two answers pass: the event rejected with 0xFE (as the reference client rejects an invalid StartTime or
  # duration) and no other status for it; or the event taken without that control, every report carrying the
  # field's "not used" value and a control interface that shows the actuation showing the device's own value.
  @id:TC-DRLC-1.33 @pics:SE.DRLC.C.C00.Rx
  Scenario Outline: An event with a reserved <control> is rejected, or taken without applying it
    When the ESI issues event 230 starting now with the reserved <control>
    Then the DUT rejects event 230 with status 0xFE and nothing else, or takes it without applying the reserved control
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

    Examples:
      | control              |
      | duty cycle 0x65      |
      | duty cycle 0xFE      |
      | load adjustment 101  |
      | load adjustment -101 |

  # "Not used" controls (SE 1.x Annex D.2.2 (Load Control Event): set points 0x8000, offsets 0xFF, average load
  # adjustment 0x80, duty cycle 0xFF): an event that sets none of them runs without changing what the device
  # applies, as its control interface shows it (decided here: its own values, as TC-DRLC-1.32 judges once an event
  # ends). A thermostat that takes 0x8000 for -327.68 degrees C acts on a value the utility never sent.
  @id:TC-DRLC-1.34 @pics:SE.DRLC.C.C00.Rx
  Scenario: While an event whose every control is "not used" runs, the DUT keeps its own actuation
    Given the DUT's control interface shows its actuation
    When the ESI issues event 235 starting now
    Then the DUT reports status 0x02 for event 235 at the event's start
    And the DUT's control interface still shows its own actuation
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Reserved bits (SE 1.x Annex D.2.2 (Load Control Event): DeviceClass bits 12-15 and EventControl bits 2-7 are
  # reserved; ZCL 07-5123 r7 1.6.2 "Reserved Bit Fields": set to zero, ignored on reception; reference client
  # (Silicon Labs drlc): the device class is matched by AND with DeviceClassValue and each EventControl bit is tested
  # alone). An event for the DUT's device class with every reserved bit set is taken as if they were clear: received,
  # started at its start time unrandomized (both windows set, neither randomization bit set). Its reports echo the
  # event's EventControl whole, as the reference client does (the shared judge).
  @id:TC-DRLC-1.35 @pics:SE.DRLC.C.C00.Rx
  Scenario: An event with every reserved DeviceClass and EventControl bit set is taken as if they were clear
    Given the ESI sets the DUT's start and duration randomization to the PIXIT randomization window
    When the ESI issues event 240 starting now with every reserved DeviceClass and EventControl bit set
    Then the DUT reports status 0x01 for event 240 within the PIXIT response time
    And the DUT reports status 0x02 for event 240 at the event's start
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # An event runs until its end (SE 1.x Annex D.2, Load Control Event: StartTime plus DurationInMinutes); what else
  # happens in the DUT's event table meanwhile — another event's cancel taking effect — does not end it.
  @id:TC-DRLC-1.36 @pics:SE.DRLC.C.C01.Rx
  Scenario: A running event runs to its end when another, scheduled event is cancelled while it runs
    When the ESI issues event 330 starting now
    Then the DUT reports status 0x02 for event 330 at the event's start
    When the ESI issues event 331 starting after event 330 ends
    Then the DUT reports status 0x01 for event 331 within the PIXIT response time
    When the ESI cancels event 331 with effective time now
    Then the DUT reports status 0x06 for event 331 at the effective time
    And the DUT reports status 0x03 for event 330 at the event's end
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Temperature offsets (SE 1.x Annex D.2.2, Load Control Event): Cooling and Heating Temperature Offset are uint8
  # in 0.1 degree C (0xFF not used); they raise the cooling and lower the heating set point from the device's own,
  # where the event sets no set point (0x8000). A DUT whose control interface shows no set point is not applicable.
  @id:TC-DRLC-1.37 @pics:SE.DRLC.C.C00.Rx
  Scenario: While an event with temperature offsets runs, the DUT's set points are its own moved by the offsets
    Given the DUT's control interface shows its cooling and heating set points
    When the ESI issues event 340 starting now with a cooling offset of 2.5 degrees C and a heating offset of 1.5 degrees C, and no set point
    Then the DUT reports status 0x02 for event 340 at the event's start
    And the DUT's control interface shows its own set points moved by event 340's offsets
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  # Utility enrollment groups. A Load Control Event's UtilityEnrollmentGroup directs it to a group of devices within
  # its device classes, 0x00 addressing every group (SE 1.x Annex D.2.2, Load Control Event: "used in conjunction
  # with the Device Class bits", "0x00 addresses all groups"); a device's UtilityEnrollmentGroup attribute (DRLC
  # client 0x0000, writable, default 0) names its own group, 0 making it a member of every group (SE 1.x Annex
  # D.2.3.2). An event applies to the DUT when it names one of the DUT's device classes and its group is 0, the
  # DUT's own, or any group while the DUT's is 0 (reference client behaviour, Silicon Labs drlc
  # afMatchUegOrDeviceClass); one that does not apply is ignored (TC-DRLC-1.4) and cannot supersede the DUT's own
  # (TC-DRLC-1.30 for a device class). Two events that apply overlap, and the newer supersedes the older, when their
  # windows overlap and they share a device class or a group, 0 sharing every group (CCB 1291, reference client
  # overlapFound); events that share neither are both kept. Decided here: those two are judged only where the rules
  # agree however the overlap is read (sharing a class or a group, or both): events of disjoint device classes and
  # disjoint non-zero groups never supersede each other, whether the DUT runs them side by side or one after the
  # other; the DUT's DeviceClassValue, writable too, is given a second class for it where it has one only.
  @id:TC-DRLC-1.38 @pics:SE.DRLC.C.C00.Rx
  Scenario: An overlapping event for another enrollment group is ignored and does not supersede the DUT's event
    Given the DUT's utility enrollment group is 5
    When the ESI issues event 350 starting after the PIXIT lead time for enrollment group 5
    Then the DUT reports status 0x01 for event 350 within the PIXIT response time
    When the ESI issues event 351 starting halfway through event 350 for enrollment group 7
    Then the DUT reports no status for event 351 within the PIXIT response time
    And the DUT reports status 0x02 for event 350 at the event's start
    And the DUT reports status 0x03 for event 350 at the event's end
    And the DUT has not reported status 0x07 for event 350
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims

  @id:TC-DRLC-1.39 @pics:SE.DRLC.C.C00.Rx
  Scenario: Overlapping events of disjoint device classes and disjoint enrollment groups are both kept, neither superseded
    Given the DUT's utility enrollment group is 0
    And the DUT's DeviceClassValue holds at least two device classes
    When the ESI issues event 360 starting after the PIXIT lead time for enrollment group 1 and the DUT's first device class
    Then the DUT reports status 0x01 for event 360 within the PIXIT response time
    When the ESI issues event 361 starting halfway through event 360 for enrollment group 2 and the DUT's second device class
    Then the DUT reports status 0x01 for event 361 within the PIXIT response time
    And the DUT reports status 0x02 for event 360 at the event's start
    And the DUT reports status 0x03 for event 360 at the event's end
    And the DUT has not reported status 0x07 for event 360
    And the DUT has not reported status 0x07 for event 361
    And every Report Event Status the DUT sent is right in every field for its event and the DUT's claims
