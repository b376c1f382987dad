@area:foundation
Feature: ZCL foundation: the Default Response rules
  Whether a command gets a Default Response, and every field of the one it gets. A Default Response is sent
  only when no other response answers the command; on success only when the request's Disable Default Response
  bit is clear; on an error always, whatever that bit says. It carries the request's sequence number and command
  id, travels the other way, has Disable Default Response set, and names the error that stopped the command.
  Sources: ZCL 07-5123 2.4.1.1.4 (the Disable Default Response sub-field; set in every response), 2.4.1.1.2
  (manufacturer code), 2.5.12 (Default Response command and when it is sent), the status enumerations; ZCL r8
  (UNSUP_COMMAND 0x81 replaces UNSUP_CLUSTER_COMMAND and UNSUP_MANUF_CLUSTER_COMMAND; MALFORMED_COMMAND or
  INVALID_FIELD at the implementer's discretion), so both revisions' statuses are accepted where they differ.

  Background:
    Given the DUT has joined with its install code

  @id:TC-ZCL-1.1 @pics:SE.IDENT.S.C00.Rx
  Scenario: A successful command that set Disable Default Response gets no Default Response
    When the golden radio sends Identify with IdentifyTime 0 to the DUT, Disable Default Response set
    Then the DUT sends no Default Response within the response time

  @id:TC-ZCL-1.2 @pics:SE.IDENT.S.C00.Rx
  Scenario: A successful command with no response of its own gets a Default Response SUCCESS
    When the golden radio sends Identify with IdentifyTime 0 to the DUT, Disable Default Response clear
    Then the DUT answers with one Default Response with status SUCCESS

  @id:TC-ZCL-1.3 @pics:SE.BASIC.S
  Scenario: A command answered by its own response gets no Default Response
    When the golden radio sends Read Attributes of Basic ZCLVersion to the DUT, Disable Default Response clear
    Then the DUT answers with one Read Attributes Response and no Default Response

  @id:TC-ZCL-1.4 @pics:SE.BASIC.S
  Scenario Outline: An unsupported cluster command is refused with UNSUP_CLUSTER_COMMAND, Disable Default Response <ddr>
    When the golden radio sends an unsupported Basic cluster command to the DUT, Disable Default Response <ddr>
    Then the DUT answers with one Default Response with status UNSUP_CLUSTER_COMMAND

    Examples:
      | ddr   |
      | clear |
      | set   |

  @id:TC-ZCL-1.5 @pics:SE.BASIC.S
  Scenario: A command on a cluster the DUT's endpoint does not carry is refused with UNSUPPORTED_CLUSTER
    When the golden radio sends Read Attributes on a server cluster the DUT's endpoint lacks, Disable Default Response set
    Then the DUT answers with one Default Response with status UNSUPPORTED_CLUSTER or UNSUP_CLUSTER_COMMAND

  @id:TC-ZCL-1.6 @pics:SE.IDENT.S.C00.Rx
  Scenario: A manufacturer-specific command with an unknown manufacturer code is refused
    When the golden radio sends Identify with an unknown manufacturer code to the DUT, Disable Default Response clear
    Then the DUT answers with one Default Response with status UNSUP_MANUF_CLUSTER_COMMAND or UNSUP_CLUSTER_COMMAND

  @id:TC-ZCL-1.7 @pics:SE.IDENT.S.C00.Rx
  Scenario: A truncated command is refused with MALFORMED_COMMAND even when Disable Default Response is set
    When the golden radio sends Identify cut short inside IdentifyTime to the DUT, Disable Default Response set
    Then the DUT answers with one Default Response with status MALFORMED_COMMAND or INVALID_FIELD

  # Attribute reporting where the PICS claim it (SE.MTR.S.REPORTING: the Metering server reports
  # CurrentSummationDelivered, an attribute SE 1.x Annex D.3 marks reportable). ZCL 07-5123 2.5.7 (Configure
  # Reporting), 2.5.8 (its response: one SUCCESS record when every record succeeded), 2.5.9 / 2.5.10 (Read
  # Reporting Configuration and its response: the configuration in force), 2.5.11 (Report Attributes: at the
  # latest every maximum reporting interval).
  @id:TC-ZCL-1.8 @pics:SE.MTR.S.REPORTING
  Scenario: Reporting of CurrentSummationDelivered is configured, read back and honoured
    Given the DUT has completed key establishment
    When the golden radio configures the DUT to report CurrentSummationDelivered every 1 to 10 s on a change of 1
    Then the DUT answers Configure Reporting Response with status SUCCESS
    And Read Reporting Configuration returns that configuration with the data model's type
    And the DUT reports CurrentSummationDelivered at least every 10 s

  # Identify Query (ZCL 07-5123 3.5.2.3.2): while the DUT identifies it answers with Identify Query Response, whose
  # Timeout is the time it will go on identifying (3.5.2.4.1); IdentifyTime counts down once a second and the DUT
  # stops identifying at 0 (3.5.2.2.1); once IdentifyTime ran out, or an Identify with IdentifyTime 0 stopped it,
  # it sends none.
  @id:TC-ZCL-1.9 @pics:SE.IDENT.S.C01.Rx
  Scenario: Identify Query is answered with the time remaining while the DUT identifies, and not once it ran out or stopped
    When the golden radio sends Identify with IdentifyTime 60 to the DUT, Disable Default Response set
    And the golden radio sends Identify Query to the DUT, Disable Default Response set
    Then the DUT answers with one Identify Query Response whose Timeout is the identify time remaining
    When 30 seconds of network time pass
    And the golden radio sends Identify Query to the DUT, Disable Default Response set
    Then the DUT answers with one Identify Query Response whose Timeout is the identify time remaining
    When 32 seconds of network time pass
    And the golden radio sends Identify Query to the DUT, Disable Default Response set
    Then the DUT sends no Identify Query Response
    When the golden radio sends Identify with IdentifyTime 60 to the DUT, Disable Default Response set
    And the golden radio sends Identify with IdentifyTime 0 to the DUT, Disable Default Response set
    And the golden radio sends Identify Query to the DUT, Disable Default Response set
    Then the DUT sends no Identify Query Response
