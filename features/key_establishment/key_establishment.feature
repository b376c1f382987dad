@area:key_establishment
Feature: Certificate-Based Key Establishment with the Trust Center
  After joining with its install code, a Smart Energy device finds the Trust Center's Key Establishment
  cluster (Match_Desc on profile 0x0109, cluster 0x0800) and runs Certificate-Based Key Establishment (CBKE)
  with it: Initiate (suite, generate times, implicit certificate), Ephemeral Data, Confirm Key (MACU/MACV).
  The resulting link key secures every SE application frame from then on. Either side refuses a bad partner
  with Terminate Key Establishment and a status. The golden ESI plays the Trust Center's Key Establishment
  server with a golden unit's test hooks: it presents bad certificates and MACs, sends frames out of order,
  answers busy or not at all, and judges the DUT only by what the DUT puts on the air.
  A DUT that forms the network (an ESI or a meter as the Trust Center, network.role forms) is the Key
  Establishment server of every device that joins it: the golden joins as a HAN device and initiates, with the
  same hooks, in the responder cases (TC-KE-4.x), which apply in both roles; the others apply to a DUT that joins.
  Sources: SE 1.x 5.4.7 and Annex C (CBKE, ECMQV, certificates), 10.7 Key Establishment cluster
  (commands, KeyEstablishmentSuite attribute, Terminate statuses), reference implementation behaviour
  (Silicon Labs key-establishment plugin) where the spec leaves a status open.

  Background:
    Given the Smart Energy network is up, formed as the DUT profile's network role says

  @id:TC-KE-1.1 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario Outline: The DUT completes CBKE suite <suite> with the Trust Center after joining
    Given the DUT claims CBKE suite <suite>
    And the golden ESI offers only CBKE suite <suite>
    When the DUT joins with its install code
    Then key establishment with suite <suite> completes within the PIXIT key establishment time
    And the DUT answers an SE command secured with the new link key

    Examples:
      | suite |
      | 1     |
      | 2     |

  @id:TC-KE-1.2 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT's certificate names the test CA as issuer and the DUT as subject
    When the DUT joins with its install code
    Then the DUT sends its certificate in an Initiate Key Establishment request
    And the certificate's issuer is the test CA's issuer
    And the certificate's subject is the DUT's IEEE address

  @id:TC-KE-1.3 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT's MACU verifies
    When the DUT joins with its install code
    Then the DUT sends Confirm Key Data with a MACU the golden ESI verifies

  @id:TC-KE-2.1 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT refuses a certificate from an unknown issuer
    Given the golden ESI presents a certificate from an unknown issuer
    When the DUT joins with its install code
    Then the DUT terminates key establishment with status UNKNOWN_ISSUER

  @id:TC-KE-2.2 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT refuses a bad MACV and does not use the key
    Given the golden ESI sends a wrong MACV
    When the DUT joins with its install code
    Then the DUT terminates key establishment with status BAD_KEY_CONFIRM
    And the DUT does not act on an SE command secured with the key of that exchange

  @id:TC-KE-2.3 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT refuses frames out of sequence
    Given the golden ESI answers Initiate Key Establishment with Ephemeral Data
    When the DUT joins with its install code
    Then the DUT terminates key establishment with status BAD_MESSAGE

  @id:TC-KE-2.4 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT refuses a suite it did not ask for
    Given the golden ESI answers with a suite the DUT does not claim
    When the DUT joins with its install code
    Then the DUT terminates key establishment with status UNSUPPORTED_SUITE

  @id:TC-KE-2.5 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario Outline: The DUT refuses a malformed certificate
    Given the golden ESI presents a certificate that is <malformed>
    When the DUT joins with its install code
    Then the DUT terminates key establishment with status INVALID_CERTIFICATE or BAD_MESSAGE

    Examples:
      | malformed                |
      | one byte short           |
      | not a valid public point |

  @id:TC-KE-2.6 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT refuses a certificate issued to someone else
    Given the golden ESI presents a certificate whose subject is not its IEEE address
    When the DUT joins with its install code
    Then the DUT terminates key establishment

  @id:TC-KE-3.1 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT waits the advertised time after NO_RESOURCES
    Given the golden ESI answers the first Initiate Key Establishment with NO_RESOURCES and a wait time of 40 seconds
    When the DUT joins with its install code
    Then the DUT starts key establishment again no sooner than 40 seconds later
    And key establishment then completes

  @id:TC-KE-3.2 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT times out and retries when the Trust Center goes silent
    Given the golden ESI goes silent after answering Initiate Key Establishment
    When the DUT joins with its install code
    Then the DUT starts key establishment again after the golden's advertised generate time, within the PIXIT retry time

  # "Not acted on" means no command-specific response or effect: no Read Attributes Response and no Default
  # Response SUCCESS. A silent drop passes, and so does a refusal by Default Response NOT_AUTHORIZED (0x7E) or
  # FAILURE (0x01), which EmberZNet's application framework sends without APS security to an SE command that
  # arrives without it (Silicon Labs gecko_sdk protocol/zigbee/app/framework/util/util.c, emberAfProcessMessage:
  # "Drop clus ... due to no aps security"; FAILURE in SE builds and older releases, NOT_AUTHORIZED in newer
  # ones and with WWAH). Any other answer, a Default Response with another status included, is acting on it.
  # Rule: SE 1.x 5.4.7 (SE application frames only under the CBKE link key).
  @id:TC-KE-3.3 @pics:SE.NWK.JOIN
  Scenario Outline: The DUT does not act on SE commands secured with <protection>
    Given the DUT has joined and completed key establishment
    When the golden ESI sends the DUT an SE command secured with <protection>
    Then the DUT does not act on it

    Examples:
      | protection                |
      | its install-code link key |
      | no APS security           |

  @id:TC-KE-3.4 @pics:SE.KE.C @pics:SE.NWK.JOIN
  Scenario: The DUT sends Key Establishment frames under network security only
    When the DUT joins with its install code
    Then key establishment completes within the PIXIT key establishment time
    And every Key Establishment frame from the DUT is secured at the network layer and not APS-encrypted

  @id:TC-KE-3.5 @pics:SE.NWK.JOIN
  Scenario Outline: The DUT's KeyEstablishmentSuite attribute names its suites
    Given the DUT claims the Key Establishment <side>
    And the DUT has joined with its install code
    When the golden ESI reads KeyEstablishmentSuite of the DUT's Key Establishment <side>
    Then the value names exactly the CBKE suites the DUT claims

    Examples:
      | side   |
      | server |
      | client |

  @id:TC-KE-4.1 @pics:SE.KE.S
  Scenario: As responder the DUT completes CBKE started by its partner
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT
    Then key establishment completes with SUCCESS within the PIXIT key establishment time
    And the DUT answers an SE command secured with the new link key

  @id:TC-KE-4.2 @pics:SE.KE.S
  Scenario: As responder the DUT refuses an unsupported suite
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT naming a suite the DUT does not claim
    Then the DUT terminates key establishment with status UNSUPPORTED_SUITE

  # The DUT as responder on every negative path the golden can play as initiator (issue 17). The golden
  # initiates after the DUT's own CBKE at joining, so the DUT is idle and answers as the Key Establishment server.
  # Statuses (SE 1.x 10.7.2.4.4 Terminate Key Establishment, SE-FACTS "Key Establishment"): 1 UNKNOWN_ISSUER,
  # 2 BAD_KEY_CONFIRM, 3 BAD_MESSAGE, 4 NO_RESOURCES, 5 UNSUPPORTED_SUITE, 6 INVALID_CERTIFICATE. Where the spec
  # leaves the status open the reference implementation's is named (Silicon Labs key-establishment plugin,
  # app/framework/plugin/key-establishment/key-establishment.c: a wrong message in the sequence, a subject that
  # is not the partner's EUI64 and a short command are INVALID_PARTNER_MESSAGE, sent as BAD_MESSAGE).

  # Rule: SE 1.x C.4.2.2.2 / 10.7.2.4.4: a certificate whose issuer is not trusted is refused with UNKNOWN_ISSUER.
  @id:TC-KE-4.3 @pics:SE.KE.S
  Scenario: As responder the DUT refuses a certificate from an unknown issuer
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT presenting a certificate from an unknown issuer
    Then the DUT terminates key establishment with status UNKNOWN_ISSUER
    And the DUT derives no key in that exchange

  # Rule: SE 1.x C.4.2.2.2: the certificate's subject must be the partner's IEEE address (reference
  # implementation: BAD_MESSAGE).
  @id:TC-KE-4.4 @pics:SE.KE.S
  Scenario: As responder the DUT refuses a certificate issued to someone else
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT presenting a certificate whose subject is not its IEEE address
    Then the DUT terminates key establishment
    And the DUT derives no key in that exchange

  # Rule: SE 1.x C.4 (certificate format, a valid public reconstruction point) / 10.7.2.4.4: INVALID_CERTIFICATE;
  # a frame too short for its command is BAD_MESSAGE.
  @id:TC-KE-4.5 @pics:SE.KE.S
  Scenario Outline: As responder the DUT refuses a malformed certificate that is <malformed>
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT presenting a certificate that is <malformed>
    Then the DUT terminates key establishment with status INVALID_CERTIFICATE or BAD_MESSAGE
    And the DUT derives no key in that exchange

    Examples:
      | malformed                |
      | one byte short           |
      | not a valid public point |

  # Rule: SE 1.x C.4.2.2.6 / 10.7.2.4.4: a MACU that does not verify ends the exchange with BAD_KEY_CONFIRM and
  # the key is discarded (SE 1.x 5.4.7: SE frames only under a confirmed CBKE key).
  @id:TC-KE-4.6 @pics:SE.KE.S
  Scenario: As responder the DUT refuses a bad MACU and does not use the key
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT sending a wrong MACU
    Then the DUT terminates key establishment with status BAD_KEY_CONFIRM
    And the DUT does not act on an SE command secured with the key the golden derived in that exchange

  # Rule: SE 1.x 10.7.4 (the exchange's order: Initiate, Ephemeral Data, Confirm Key) / 10.7.2.4.4: a frame out of
  # sequence is BAD_MESSAGE (reference implementation: INVALID_PARTNER_MESSAGE, sent as BAD_MESSAGE).
  @id:TC-KE-4.7 @pics:SE.KE.S
  Scenario Outline: As responder the DUT refuses <frame> out of sequence
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT sending <frame> out of sequence
    Then the DUT terminates key establishment with status BAD_MESSAGE

    Examples:
      | frame                                 |
      | Ephemeral Data before Initiate        |
      | Confirm Key before Ephemeral Data     |

  # Rule: SE 1.x C.4.2.2.3 (QEU is a compressed point of the suite's curve, 22 or 37 bytes) and C.3 (every received
  # point is validated before use) / 10.7.2.4.4: BAD_MESSAGE, before the DUT answers with its own Ephemeral Data.
  @id:TC-KE-4.8 @pics:SE.KE.S
  Scenario Outline: As responder the DUT refuses Ephemeral Data that is <bad>
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT sending Ephemeral Data that is <bad>
    Then the DUT answers the Ephemeral Data with Terminate Key Establishment status BAD_MESSAGE

    Examples:
      | bad                       |
      | one byte short            |
      | not a point on the curve  |

  # Rule: SE 1.x C.4.2.2.3: each exchange generates a new ephemeral key pair (ECMQV's ephemeral keys are used once).
  @id:TC-KE-4.9 @pics:SE.KE.S
  Scenario: As responder the DUT uses a fresh ephemeral key
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT
    Then key establishment completes with SUCCESS within the PIXIT key establishment time
    And the DUT's ephemeral public key differs from the one it sent in its CBKE at joining

  # Rule: SE 1.x 10.7.2.4.1: the Initiate Key Establishment Response's Ephemeral Data Generate Time and Confirm Key
  # Generate Time are the times the responder takes to answer Ephemeral Data and Confirm Key; the initiator's
  # timeouts are built on them (SE 1.x 10.7.4).
  @id:TC-KE-4.10 @pics:SE.KE.S
  Scenario: As responder the DUT answers within the generate times it advertised
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT
    Then key establishment completes with SUCCESS within the PIXIT key establishment time
    And the DUT answers Ephemeral Data within its advertised Ephemeral Data Generate Time
    And the DUT answers Confirm Key within its advertised Confirm Key Generate Time

  # Rule: ZCL 2.4.1.3 (a response carries the sequence number of the request it answers); SE 1.x 10.7.2.4.
  @id:TC-KE-4.11 @pics:SE.KE.S
  Scenario: As responder the DUT answers with the request's ZCL sequence number
    Given the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT
    Then key establishment completes with SUCCESS within the PIXIT key establishment time
    And each Key Establishment response from the DUT carries the ZCL sequence number of the golden's request

  # Rule: SE 1.x 10.7.2.4.1 Initiate Key Establishment Response (suite: the one requested; generate times) and
  # C.4 (implicit certificate: issuer the CA, subject the device's IEEE; suite 2: type 0x00, curve 0x0D, hash 0x08,
  # key usage with key agreement).
  @id:TC-KE-4.12 @pics:SE.KE.S
  Scenario Outline: As responder the DUT's Initiate Key Establishment Response for suite <suite> is well formed
    Given the DUT claims CBKE suite <suite>
    And the DUT has joined and completed key establishment
    When the golden initiates key establishment with the DUT for suite <suite>
    Then the DUT answers with an Initiate Key Establishment Response naming suite <suite>
    And the response's generate times are at least one second
    And the response's certificate is a suite <suite> certificate from the test CA for the DUT's IEEE address

    Examples:
      | suite |
      | 1     |
      | 2     |

  # Rule: SE 1.x 10.7.2.4.4 (NO_RESOURCES: the responder cannot take another exchange now; the wait time says when
  # to try again) and 10.7.4; reference implementation: a second partner's Initiate mid-exchange gets Terminate
  # NO_RESOURCES with BACK_OFF_TIME_REPORTED_TO_PARTNER, and the running exchange goes on (Silicon Labs
  # key-establishment.c, "Second Key establishment not supported, terminating it"). The second initiator is a
  # second golden-side node on the network: a bench with one golden radio cannot run this case (a bench error).
  @id:TC-KE-4.13 @pics:SE.KE.S
  Scenario: As responder the DUT refuses a second initiator while an exchange runs
    Given the DUT has joined and completed key establishment
    And a second golden node has joined the network
    When the golden initiates key establishment with the DUT and the second node initiates while it runs
    Then the DUT answers the second node with Terminate Key Establishment status NO_RESOURCES and a wait time
    And key establishment completes with SUCCESS within the PIXIT key establishment time
