@area:joining @pics:SE.NWK.JOIN
Feature: Joining a Smart Energy network with an install code
  A Smart Energy device joins the utility's HAN only through the Trust Center, with the preconfigured link
  key derived from its install code (AES-MMO(code || CRC)); the network key reaches it in an APS Transport
  Key secured with the key-transport key. The golden radio plays the Trust Center and the ESI.
  Sources: Zigbee spec 4.6.3 (joining, Trust Center), SE 1.x 5.4 (install codes, no default TC link key).

  Background:
    Given the golden Trust Center has formed the Smart Energy network
    And the DUT is factory new

  @id:TC-JOIN-1.1
  Scenario: The DUT joins with its install code within the join time
    Given the Trust Center holds the link key of the DUT's install code
    And the Trust Center permits joining for 180 seconds
    When the DUT is told to join
    Then the DUT is admitted within the PIXIT join time
    And the DUT holds the network key that the Trust Center sent

  @id:TC-JOIN-1.2
  Scenario: A DUT with a different install code is never admitted
    Given the Trust Center holds the link key of a different install code for the DUT
    And the Trust Center permits joining for 180 seconds
    When the DUT is told to join
    Then the DUT is not admitted within the PIXIT join time
    And the DUT sends no network-layer frame once the key transport failed

  @id:TC-JOIN-1.3
  Scenario: The DUT does not join while permit-join is closed
    Given the Trust Center holds the link key of the DUT's install code
    And the Trust Center does not permit joining
    When the DUT is told to join
    Then the DUT is not admitted within the PIXIT join time
    And the DUT sends no association request while the beacons deny joining

  @id:TC-JOIN-1.4
  Scenario: The DUT refuses a network key offered under the default Trust Center link key
    Given the Trust Center offers the network key under the well-known key "ZigBeeAlliance09"
    And the Trust Center permits joining for 180 seconds
    When the DUT is told to join
    Then the DUT is not admitted within the PIXIT join time
    And the DUT sends no network-layer frame once the key transport failed

  @id:TC-JOIN-1.5
  Scenario: The DUT announces itself after joining
    Given the DUT has joined with its install code
    Then the golden radio received a Device_annce from the DUT
    And the announced IEEE address is the DUT's IEEE address from its profile
    And the announced network address is the one the DUT was given when it joined

  @id:TC-JOIN-1.6
  Scenario: The DUT rejoins after the Trust Center restarts
    Given the DUT has joined with its install code
    When the golden radio restarts and stays silent for the PIXIT golden silence time
    And the DUT is told to rejoin
    Then the DUT is back on the network within the PIXIT rejoin time
    And the DUT still uses the network key it was given

  @id:TC-JOIN-1.7
  Scenario: The DUT leaves on Mgmt_Leave and stays gone
    Given the DUT has joined with its install code
    When the golden radio sends Mgmt_Leave_req to the DUT without rejoin
    Then the DUT answers Mgmt_Leave_rsp with status SUCCESS
    And within the PIXIT leave silence time the DUT sends nothing but its NWK leave announcement
    And the DUT does not answer a ZDO request at its former address

  @id:TC-JOIN-1.8
  Scenario: The DUT follows a network key update
    Given the DUT has joined with its install code
    When the Trust Center sends a new network key with sequence number 1 and then switches to it
    Then the DUT secures its next frames with network key sequence number 1
    And the DUT answers a ZDO request secured with the new network key

  # The level on the air is judged, not trusted. A Zigbee PRO sender writes 0 into the level subfield of the
  # security control field (Zigbee spec 4.3.1.1 / 4.4.1.1) and the receiver overwrites it with nwkSecurityLevel
  # (4.3.1.2 / 4.4.1.2), 5 = ENC-MIC-32 in an SE network. So every secured frame is authenticated at level 5:
  # one secured at another level (4, ENC without a MIC) fails its MIC, which makes it a finding with its bytes,
  # and so does a non-zero level subfield on the air.
  @id:TC-JOIN-1.9
  Scenario: Every secured frame from the DUT is ENC-MIC-32 and authenticates
    When the DUT joins, establishes its link key and answers an SE command under it, as far as it gets
    Then every NWK- and APS-secured frame from the DUT is secured at level 5 (ENC-MIC-32) and its MIC verifies

  # What the DUT says of itself must agree with how it associated: its Device_annce (Zigbee spec 2.4.3.1.11),
  # Node Descriptor (2.4.3.1.3, 2.3.2.3) and Power Descriptor (2.4.3.1.4, 2.3.2.4) against the capability field
  # of its MAC association request (IEEE 802.15.4-2006 7.3.1.2): device type (router or end device), power
  # source, receiver on when idle, security capability, allocate address; the band is 2.4 GHz (SE 1.x), the
  # manufacturer code the DUT profile's (identity.manufacturer_code) when it names one, buffer and transfer
  # sizes within their ranges, and a DUT that joined the golden Trust Center is not the primary Trust Center.
  # Every SE device serves Basic (SE 1.x device types), whose PowerSource these descriptors underlie.
  @id:TC-JOIN-1.10 @pics:SE.BASIC.S
  Scenario: The DUT's Device_annce, Node Descriptor and Power Descriptor agree with its association request
    Given the DUT has joined with its install code
    Then the DUT sent a MAC association request when it joined
    And its Device_annce carries its IEEE address, its given network address and the association's capability
    And its Node Descriptor agrees with the association's capability, its device type and its profile
    And its Power Descriptor agrees with the association's power source and receiver

  # A receiver keeps the last frame counter of each sender and drops a NWK-secured frame whose counter is not
  # above it (Zigbee spec 4.3.1.2), and the same for an APS-secured frame under its link key (4.4.1.2), so a
  # recorded frame replayed later does nothing. An APS frame that arrives twice (same source, same APS counter,
  # in fresh NWK frames as a retry or a second route brings it) is acknowledged but delivered once (2.2.8.4.2).
  # The replays come 30 s after the originals, beyond any APS duplicate-rejection window, so only the frame
  # counters can stop them. The golden radio replays its own frames (a bench without a raw-frame radio cannot).
  # The APS-secured request goes under the link key the golden holds once CBKE is over, as far as it got (its
  # outcome is TC-KE-1.1's verdict): a DUT that does not answer it leaves only the NWK replay and the duplicate
  # judged here (APS security under the link key is the application cases' and TC-KE-4.1's verdict).
  @id:TC-JOIN-1.11 @pics:SE.KE.C
  Scenario: The DUT drops replayed NWK- and APS-secured frames and takes a duplicated APS frame once
    Given the DUT has joined with its install code
    When the golden radio sends an IEEE_addr_req and at once the same APS frame again in a fresh NWK frame
    And 30 seconds later the golden radio replays that IEEE_addr_req byte for byte, with its old NWK frame counter
    And the golden radio sends an APS-secured IEEE_addr_req and 30 seconds later its APS frame again in a fresh NWK frame
    Then the DUT answered the duplicated IEEE_addr_req once
    And the DUT neither answered nor acknowledged the replayed NWK frame
    And the DUT did not answer the replayed APS-secured frame

  # Mgmt_Leave_req with Rejoin set asks the device to leave and come back (Zigbee spec 2.4.3.3.5): it answers
  # SUCCESS, announces its leave with the Rejoin subfield set (3.4.4.3.1, 3.6.1.10) and rejoins with the network
  # key it kept (3.6.1.4.2). Remove Children is taken as well: a router's children leave with it, and an end
  # device, which has none, takes the request all the same (2.4.3.3.5).
  @id:TC-JOIN-1.12 @pics:SE.BASIC.S
  Scenario: The DUT leaves on Mgmt_Leave with Rejoin and Remove Children, and comes back
    Given the DUT has joined with its install code
    When the golden radio sends Mgmt_Leave_req to the DUT with Rejoin and Remove Children
    Then the DUT answers Mgmt_Leave_rsp with status SUCCESS
    And the DUT announces its leave with the Rejoin subfield set
    And the DUT is back on the network within the PIXIT rejoin time after its leave

  # A frame counter is never used twice with one key (Zigbee spec 4.3.1.1), and a receiver drops a NWK frame
  # whose counter it has seen from the sender (4.3.1.2): so the outgoing NWK frame counter survives a power
  # cycle (kept in non-volatile memory). A device that starts again at 0 is dropped by the golden's replay check
  # until its counter passes the old value, so it must answer at all, and every counter after the cycle must be
  # above the highest before it. The DUT's power is switched through its DUT control (the profile's commands).
  @id:TC-JOIN-1.13 @pics:SE.BASIC.S
  Scenario: The DUT's outgoing NWK frame counter survives a power cycle
    Given the DUT has joined with its install code
    When the DUT's power is cut for 5 seconds and comes back
    Then the DUT answers a ZDO request at its address within the PIXIT rejoin time
    And every NWK frame counter of the DUT after the power cycle is above the highest before it

  # A device that was off while the Trust Center updated the network key holds only the old key; once the
  # network no longer accepts it, its secured rejoin goes unanswered and it rejoins through the Trust Center:
  # a rejoin request without NWK security, answered with the current network key in an APS Transport Key under
  # its Trust Center link key (Zigbee spec 3.6.1.4.2 and 4.6.3.3; SE 1.x 5.4: rejoining with the Trust Center
  # link key). The DUT's power is switched through its DUT control; the golden radio must be able to retire a key.
  @id:TC-JOIN-1.14 @pics:SE.BASIC.S
  Scenario: A DUT that missed a network key update comes back by a Trust Center rejoin
    Given the DUT has joined with its install code
    When the DUT's power is cut
    And the Trust Center sends a new network key with sequence number 1 and then switches to it
    And the Trust Center no longer accepts network key sequence number 0
    And the DUT's power comes back and the DUT is told to rejoin
    Then the DUT sends a Trust Center rejoin request without NWK security within the PIXIT rejoin time
    And the DUT secures its next frames with network key sequence number 1

  # The Trust Center removes a device with APS Remove Device to its parent; a router is named as its own parent
  # and target, and leaves (Zigbee spec 4.4.5.1-4.4.5.2, APSME-REMOVE-DEVICE; 3.6.1.10: leaving without rejoin);
  # an end device's parent, here the golden itself, sends it a NWK leave request (3.6.1.10.3). The command is
  # APS-secured with the DUT's link key (4.4.5.2: only the Trust Center removes a device).
  @id:TC-JOIN-1.15 @pics:SE.BASIC.S
  Scenario: The DUT leaves when the Trust Center removes it
    Given the DUT has joined with its install code
    When the Trust Center removes the DUT from the network
    Then the DUT announces its leave without the Rejoin subfield
    And the DUT does not answer a ZDO request at its former address
