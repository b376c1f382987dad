@area:attributes
Feature: Mandatory clusters and attributes of the DUT's device type
  Every Smart Energy device carries the clusters its device type makes mandatory, on profile 0x0109, and
  serves their mandatory attributes with the data types and ranges of the data model. Unsupported and
  read-only attributes are answered with the ZCL status codes.
  Sources: SE 1.x device descriptions (mandatory clusters by device type), ZCL 2.4 (general commands, status
  codes); the data model bundled in harness/se/datamodel.yaml.

  Background:
    Given the DUT has joined with its install code

  @id:TC-ATTR-1.1
  Scenario: The simple descriptor declares the SE profile, the device type and its mandatory clusters
    When the golden radio asks the DUT for its active endpoints and simple descriptors
    Then the DUT's SE endpoint has profile 0x0109 and the device id of its device type
    And it lists every input and output cluster that its device type makes mandatory
    And it lists every cluster that its PICS claim

  @id:TC-ATTR-1.2
  Scenario Outline: Mandatory server attributes of <cluster> are readable, typed and in range
    Given the DUT claims the <cluster> server
    When the golden radio reads every mandatory <cluster> server attribute
    Then every attribute is answered with status SUCCESS
    And every value has the data type of the data model
    And every value lies within the range of the data model

    Examples:
      | cluster           |
      | Basic             |
      | Identify          |
      | Key Establishment |
      | Time              |
      | Price             |
      | Demand Response and Load Control |
      | Simple Metering   |
      | Messaging         |

  @id:TC-ATTR-1.3
  Scenario Outline: Mandatory client attributes of <cluster> are readable, typed and in range
    Given the DUT claims the <cluster> client
    When the golden radio reads every mandatory <cluster> client attribute
    Then every attribute is answered with status SUCCESS
    And every value has the data type of the data model
    And every value lies within the range of the data model

    Examples:
      | cluster           |
      | Key Establishment |
      | Demand Response and Load Control |

  @id:TC-ATTR-1.4
  Scenario: Writing a read-only attribute is refused with READ_ONLY
    When the golden radio writes the Basic attribute ZCL version with the value 0x05
    Then the DUT answers Write Attributes Response with status READ_ONLY for attribute 0x0000
    And reading ZCL version still returns its former value

  @id:TC-ATTR-1.5
  Scenario: Reading an unsupported attribute is answered with UNSUPPORTED_ATTRIBUTE
    When the golden radio reads attribute 0x7FF0 of the Basic server
    Then the DUT answers with status UNSUPPORTED_ATTRIBUTE for attribute 0x7FF0

  @id:TC-ATTR-1.6
  Scenario Outline: Discover Attributes lists the mandatory <cluster> server attributes
    Given the DUT claims the <cluster> server
    When the golden radio discovers the <cluster> server attributes
    Then the discovered attributes include every mandatory attribute of the data model
    And each discovered attribute carries the data type of the data model

    Examples:
      | cluster |
      | Basic   |
      | Identify |
      | Key Establishment |

  @id:TC-ATTR-1.7 @pics:SE.DRLC.C
  Scenario: Writable DRLC client attributes take in-range values and refuse out-of-range ones
    When the golden radio writes StartRandomizationMinutes with 0x3C
    Then the DUT answers Write Attributes Response with status SUCCESS
    And reading StartRandomizationMinutes returns 0x3C
    When the golden radio writes StartRandomizationMinutes with 0x3D
    Then the DUT answers Write Attributes Response with status INVALID_VALUE for attribute 0x0001
    And reading StartRandomizationMinutes returns 0x3C

  # Both randomization attributes are bounded (SE 1.x Annex D.2.3 (DRLC client attributes): StartRandomizationMinutes and
  # DurationRandomizationMinutes 0x00-0x3C), not just the start's.
  @id:TC-ATTR-1.8 @pics:SE.DRLC.C
  Scenario: DurationRandomizationMinutes takes its largest value 0x3C and refuses 0x3D
    When the golden radio writes DurationRandomizationMinutes with 0x3C
    Then the DUT answers Write Attributes Response with status SUCCESS
    And reading DurationRandomizationMinutes returns 0x3C
    When the golden radio writes DurationRandomizationMinutes with 0x3D
    Then the DUT answers Write Attributes Response with status INVALID_VALUE for attribute 0x0002
    And reading DurationRandomizationMinutes returns 0x3C

  # Optional attributes are judged as soon as the PICS claim them (SE.<AREA>.<S|C>.A<id>), beside the mandatory
  # ones of every claimed cluster side; enumerations against their defined values (not their whole 8 bits) and
  # strings against their maximum length, as harness/se/datamodel.yaml gives them.
  @id:TC-ATTR-1.9 @pics:SE.BASIC.S
  Scenario: Every attribute the PICS claim is readable, typed and within its data model bounds
    Given the DUT has completed key establishment
    When the golden radio reads every attribute the DUT's PICS claim on every cluster they claim
    Then every attribute is answered with status SUCCESS
    And every value has the data type of the data model
    And every value lies within the range of the data model
    And Basic's ZCLVersion names a published ZCL revision, 0x01 or later

  # TC-ATTR-1.6 on every cluster side the PICS claim, client sides included (Discover Attributes goes
  # server-to-client to reach a client): every mandatory and claimed attribute listed, every listed attribute the
  # data model knows with the data model's type.
  @id:TC-ATTR-1.10 @pics:SE.BASIC.S
  Scenario: Discover Attributes on every cluster side the PICS claim lists its attributes with their data types
    Given the DUT has completed key establishment
    When the golden radio discovers the attributes of every cluster side the DUT's PICS claim
    Then the discovered attributes include every mandatory and every claimed attribute
    And each discovered attribute of every cluster side carries the data type of the data model
