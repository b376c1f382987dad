@area:trust_center @pics:SE.NWK.TC
Feature: The DUT forms the Smart Energy network and is its Trust Center
  A meter or ESI that forms the home area network is its Trust Center: it admits a device only with the
  preconfigured link key of the device's install code (AES-MMO of the code and its CRC), only while its
  permit-join window is open, and sends it the network key in an APS Transport Key secured with the key-transport
  key of that link key, never under the well-known key "ZigBeeAlliance09". It updates the network key (the new
  key under the next key sequence number, then Switch Key), removes devices, lets go of a device that leaves on
  its own, takes known devices back by rejoin, and keeps a link key for every device of a home.
  The golden plays the HAN devices: the ones the DUT profile names (network.han_devices, the first being the
  golden radio), and on a simulated bench as many more as a case needs. The DUT's Trust Center is driven through
  its head end (control actions add_install_code, permit_joining, update_network_key, remove_device).
  Sources: Zigbee spec 4.6.3 (Trust Center: joining, rejoining, key update), 4.4.10 (APS security commands),
  4.4.5 (Remove Device), 3.4.4 and 3.6.1.10 (Leave); SE 1.x 5.4 (install codes, no default link key, CBKE).

  Background:
    Given the DUT is factory new and has formed its network

  @id:TC-TC-1.1
  Scenario: A HAN device whose install code the Trust Center holds is admitted under that code's key
    Given the DUT's Trust Center holds the install code of HAN device 1
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When HAN device 1 joins the DUT's network
    Then HAN device 1 is admitted within the PIXIT join time
    And HAN device 1 got the network key in a Transport Key under its install code's key-transport key
    And no network key went out under the well-known key
    And the DUT answers a ZDO request from HAN device 1
    And the DUT secures its frames with the network key HAN device 1 got

  @id:TC-TC-1.2
  Scenario: A HAN device with another install code than the one the Trust Center holds is not admitted
    Given the DUT's Trust Center holds the install code of HAN device 1
    And HAN device 1 is commissioned with a different install code
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When HAN device 1 joins the DUT's network
    Then HAN device 1 is not admitted within the PIXIT join time
    And no frame from the DUT opens under HAN device 1's key
    And no network key went out under the well-known key

  @id:TC-TC-1.3
  Scenario: A HAN device the Trust Center holds no install code for is not admitted
    Given the DUT's Trust Center holds no install code for HAN device 1
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When HAN device 1 joins the DUT's network
    Then HAN device 1 is not admitted within the PIXIT join time
    And no network key went out under the well-known key

  @id:TC-TC-1.4
  Scenario: A HAN device commissioned only with the well-known key gets no network key it can open
    Given the DUT's Trust Center holds the install code of HAN device 1
    And HAN device 1 is commissioned with the well-known key "ZigBeeAlliance09" only
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When HAN device 1 joins the DUT's network
    Then HAN device 1 is not admitted within the PIXIT join time
    And no network key went out under the well-known key

  # Install codes come in four lengths (6, 8, 12 and 16 bytes, each with its 2-byte CRC; SE 1.x 5.4.8.1.1): the
  # Trust Center derives the link key (AES-MMO hash of the code and CRC) from each as it is.
  @id:TC-TC-1.5
  Scenario Outline: A HAN device with a <length>-byte install code is admitted under that code's key
    Given HAN device 1 is commissioned with a <length>-byte install code that the DUT's Trust Center holds
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When HAN device 1 joins the DUT's network
    Then HAN device 1 is admitted within the PIXIT join time
    And HAN device 1 got the network key in a Transport Key under its install code's key-transport key

    Examples:
      | length |
      | 6      |
      | 8      |
      | 12     |
      | 16     |

  # Both ends of the window are probed: before it opens and once it has closed, a device that associates although
  # the beacons deny joining is refused (the stack of a device that respects the beacons would not even ask).
  @id:TC-TC-2.1
  Scenario: Outside its permit-join window the Trust Center admits nobody
    Given the DUT's Trust Center holds the install code of HAN device 1
    When HAN device 1 tries to join, associating although the beacons deny joining
    Then HAN device 1 is not admitted within the PIXIT join time
    When the DUT's Trust Center permits joining for the PIXIT permit window
    And the permit window has closed by the PIXIT timing tolerance
    And HAN device 1 tries to join, associating although the beacons deny joining
    Then HAN device 1 is not admitted within the PIXIT join time
    And the DUT's beacons denied joining outside its window

  @id:TC-TC-2.2
  Scenario: The permit-join window stays open as long as it was opened for
    Given the DUT's Trust Center holds the install code of HAN device 1
    When the DUT's Trust Center permits joining for the PIXIT permit window
    And all but the PIXIT timing tolerance of the permit window has passed
    And HAN device 1 joins the DUT's network
    Then HAN device 1 is admitted within the PIXIT join time
    And HAN device 1 got the network key in a Transport Key under its install code's key-transport key

  @id:TC-TC-3.1
  Scenario: The Trust Center updates the network key: the next key sequence number, then Switch Key
    Given HAN device 1 has joined the DUT's network
    When the DUT's Trust Center updates the network key
    Then within the PIXIT key update time HAN device 1 got a new network key under the next key sequence number
    And HAN device 1 then got Switch Key to that key sequence number under its link key
    And the DUT answers a ZDO request from HAN device 1
    And the DUT secures its frames with the new network key since Switch Key

  @id:TC-TC-4.1
  Scenario: The Trust Center removes a router with APS Remove Device under its link key
    Given HAN device 1 has joined the DUT's network
    When the DUT's Trust Center removes HAN device 1
    Then HAN device 1 got APS Remove Device naming itself under its link key
    And HAN device 1 has left the network

  # An end device is the Trust Center's own child here: it is removed with a NWK leave request from its parent
  # (Zigbee 4.4.5.1), not with Remove Device. One golden radio is a router: this case needs a second HAN device.
  @id:TC-TC-4.2
  Scenario: The Trust Center removes an end device, its child, with a NWK leave request without rejoin
    Given HAN device 2 has joined the DUT's network as an end device
    When the DUT's Trust Center removes HAN device 2
    Then HAN device 2 got a NWK leave request without rejoin, secured with the network key
    And HAN device 2 has left the network

  # A device may also leave on its own: a NWK Leave without rejoin (Zigbee 3.4.4), after which its parent and Trust
  # Center forget it (ZBOSS and zigbee-on-host drop the device, and the incoming NWK frame counter they kept for
  # it, on that leave). A network key update then leaves it out (Zigbee 4.6.3.4: the new key goes to the devices
  # on the network), and once factory reset, its frame counters from 0 again, it joins with its install code and
  # is served. A mutation survivor of the fourth run: an ESI that kept the device joined, with its old counter,
  # sent it the new key and dropped every frame of its new life as a replay.
  @id:TC-TC-4.3
  Scenario: A device that left on its own gets no new network key, and joins again from frame counter 0
    Given HAN device 1, the golden, has joined the DUT's network and established its link key by CBKE
    When HAN device 1 leaves the DUT's network without rejoin
    And the DUT's Trust Center updates the network key
    Then no key went to HAN device 1 since it left
    When HAN device 1 is factory reset
    And the DUT's Trust Center holds the install code of HAN device 1
    And the DUT's Trust Center permits joining for the PIXIT permit window
    And HAN device 1 joins the DUT's network
    Then HAN device 1 is admitted within the PIXIT join time
    And HAN device 1 got the network key in a Transport Key under its install code's key-transport key
    And that network key is the one the update made, under the next key sequence number
    And the DUT answers a ZDO request from HAN device 1, whose frame counter started again from 0

  @id:TC-TC-5.1
  Scenario: A device the Trust Center admitted gets the network key again by Trust Center rejoin
    Given HAN device 1 has joined the DUT's network
    When HAN device 1 loses the network key and rejoins through the Trust Center
    Then HAN device 1 is back on the network within the PIXIT rejoin time
    And HAN device 1 got a Rejoin Response with status SUCCESS and its address
    And HAN device 1 got the active network key again under its install code's key-transport key
    And the DUT answers a ZDO request from HAN device 1

  @id:TC-TC-5.3
  Scenario: A device that holds the network key rejoins secured and gets a NWK-secured Rejoin Response
    Given HAN device 1 has joined the DUT's network
    When HAN device 1 rejoins secured with the network key it holds
    Then HAN device 1 is back on the network within the PIXIT rejoin time
    And HAN device 1 got a Rejoin Response with status SUCCESS and its address
    And that Rejoin Response was secured with the active network key
    And the DUT answers a ZDO request from HAN device 1

  @id:TC-TC-5.2
  Scenario: A device the Trust Center never admitted gets nothing by Trust Center rejoin
    Given the DUT's Trust Center holds no install code for HAN device 1
    When HAN device 1 asks for a Trust Center rejoin of the DUT's network
    Then HAN device 1 is not back on the network within the PIXIT rejoin time
    And no network key went out under the well-known key

  # A home holds tens of SE devices; the Trust Center keeps a link key for each. 50 devices, then the first of
  # them rejoins through the Trust Center, which it can only do if its link key is still in the table.
  @id:TC-TC-6.1
  Scenario: The link-key table holds 50 devices
    Given the DUT's Trust Center holds the install codes of 50 HAN devices
    And the DUT's Trust Center permits joining for the PIXIT permit window
    When the 50 HAN devices join the DUT's network one after another
    Then all 50 HAN devices are admitted, each under its own install code's key-transport key
    When the first of the 50 loses the network key and rejoins through the Trust Center
    Then it is back on the network within the PIXIT rejoin time
