@area:openseg @pics:SE.NWK.JOIN
Feature: OpenSEG gateway: the meter's data on the home network, and nothing of the utility's control
  An Open Smart Energy Gateway is the consumer's device paired with the utility meter, the only HAN device that
  is. It reads only the Simple Metering cluster (polling it, or configuring its reports) every 4 seconds, keeps
  a 48-hour circular cache that survives a power cut, and serves the readings (JSON and Green Button) to its
  home network only, never passing utility control (DRLC, Price, Messaging) on and letting no other device
  join the HAN through it. Its API serves what the meter measured, when the meter measured it, within the
  profile's latency, and holds up against a hostile client on the home network. The golden radio plays the
  Trust Center, the ESI and the meter; the bench is the home network's client.
  The read interval (4 s), the read tolerance (2 s) and the API latency (1 s) are the profile's requirements: a
  DUT profile's PIXITs may only tighten them. So are the 48-hour cache, the request sizes (a head of 8 KiB and a
  body of 1 KiB served, a head over 64 KiB answered 431 or 413, a body over 64 KiB 413), the request-head
  timeout (10 s) and the 1,000 concurrent requests (docs/openseg-api.md, "Profile rules").
  Sources: LBNL-182358 (OpenSEG design), SE 1.x (Simple Metering, CBKE), Zigbee PRO (joining, beacons),
  NAESB REQ.21 ESPI, RFC 9110 / RFC 6585 (HTTP statuses), docs/openseg-api.md (the consumer API profile).

  Background:
    Given the DUT serves the OpenSEG consumer API

  @id:TC-OSEG-1.1
  Scenario: The gateway pairs with the meter's network and completes CBKE before it reads the meter
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then the DUT read the meter only after key establishment completed

  # The ESI refusing the gateway's key establishment (its certificate's issuer not trusted: a gateway the utility
  # has not provisioned) leaves it without the CBKE link key that Simple Metering needs: it reads nothing.
  @id:TC-OSEG-1.2
  Scenario: A gateway whose key establishment the ESI refuses reads nothing from the meter
    Given the ESI refuses every key establishment with the DUT, its certificate's issuer unknown
    And the DUT has joined with its install code
    When 2 minutes of network time pass
    Then the DUT completed no key establishment and sent the meter no Simple Metering frame

  @id:TC-OSEG-2.1
  Scenario: Over an hour the gateway touches only Simple Metering, Basic, Time and Key Establishment
    Given the DUT has joined and completed key establishment
    When 1 hour of network time passes
    Then every ZCL frame the DUT sent to the ESI was on Simple Metering, Basic, Time or Key Establishment

  @id:TC-OSEG-2.2
  Scenario: The gateway never writes to or commands the meter
    Given the DUT has joined and completed key establishment
    When 1 hour of network time passes
    Then the DUT sent the meter no Write Attributes and no cluster command

  @id:TC-OSEG-2.3
  Scenario: The gateway lets no other device join the HAN through it, even when the Trust Center permits joining
    Given the DUT has joined and completed key establishment
    When the Trust Center permits joining for 60 seconds
    And the golden radio scans the channel for beacons
    Then the DUT answered the scan with a beacon if it is a router
    And no beacon of the DUT permits association

  @id:TC-OSEG-3.1
  Scenario: Utility DRLC, Price and Messaging frames sent to the gateway never appear on its API
    Given the DUT has joined and completed key establishment
    When the utility sends the DUT a Load Control Event, a Publish Price and a Display Message
    And 1 minute of network time passes
    Then no API resource shows the event, the price or the message
    And the utility-control paths of the API answer 404
    And the DUT passed no DRLC, Price or Messaging command on
    And the DUT sent nothing to the HAN but to the ESI and the network's own ZDO and NWK traffic

  @id:TC-OSEG-3.2
  Scenario: API values equal the meter's, correctly scaled, read when the meter measured them, and fresh
    Given the DUT has joined and completed key establishment
    When 10 minutes of network time pass
    Then the meter resource shows the meter's identity, unit, Multiplier, Divisor, formatting, type and status
    And the summation resource equals a summation the meter served within the read interval plus tolerance
    And the demand resource equals a demand the meter served within the read interval plus tolerance
    And over one read interval every summation and demand shown is the newest the meter served, at its read_at

  @id:TC-OSEG-3.3
  Scenario: A readings range returns exactly the cached readings inside it, and nothing for a range outside the cache
    Given the DUT has joined and completed key establishment
    When 10 minutes of network time pass
    Then a readings range from one cached reading to another returns exactly the readings between, both included
    And a readings range ending one second before the oldest cached reading returns no reading, with HTTP 200
    And a Green Button export of a range outside the cache is a schema-valid feed without intervals

  @id:TC-OSEG-3.4
  Scenario: The API answers every resource within the profile's latency
    Given the DUT has joined and completed key establishment
    When 10 minutes of network time pass
    Then every metering resource, asked 3 times, answers correctly within the PIXIT API latency

  # A Report Attributes frame carries any number of attribute records, each its attribute id, its data type and
  # its value (ZCL 07-5123 2.4.11.1); a meter may report its attributes in any order and with others beside them.
  # A gateway reads each record by id and type, and keeps each value's sign (InstantaneousDemand is int24 in every
  # layout). A report of 15 bytes like the usual one whose uint48 is CurrentSummationReceived (0x0001) carries no
  # summation delivered, so it is no reading. A frame whose record is cut short (a lone summation cut after 4 of
  # its 6 value bytes too), or of a type the gateway cannot size, is malformed: no value of it is the meter's
  # measurement (docs/openseg-api.md "Profile rules": the API serves what the meter measured), and the gateway goes
  # on reading.
  @id:TC-OSEG-3.5
  Scenario: Reports in other legal layouts become readings, malformed reports none, and the gateway goes on
    Given the DUT has joined and completed key establishment
    When 2 minutes of network time pass
    And the meter sends the DUT, between its own reports, reports in other legal layouts and malformed reports
    And 1 minute of network time passes
    Then each report in another legal layout is a reading at its time with its summation and demand
    And every reading since the first of those reports is a summation and demand the meter served together
    And no reading is timed at a malformed report, nor at one without CurrentSummationDelivered
    And the newest reading is at most one read interval plus tolerance old

  # InstantaneousDemand is a signed 24-bit integer and CurrentSummationDelivered an unsigned 48-bit one (SE 1.x
  # Simple Metering 0x0400 and 0x0000); every value of its type but ZCL's invalid value (0x800000, all ones) is
  # legal (ZCL 07-5123 2.5.2). A gateway keeps each whole: a demand beyond 16 bits either way (a large load, or
  # export), and a summation beyond 32 bits.
  @id:TC-OSEG-3.6
  Scenario: Reports of demands and a summation at their types' limits become readings with exactly those values
    Given the DUT has joined and completed key establishment
    When 2 minutes of network time pass
    And the meter sends the DUT, between its own reports, usual reports of demands and a summation at their types' limits
    And 1 minute of network time passes
    Then each of those reports is a reading at its time with exactly its summation and demand
    And every reading since the first of those reports is a summation and demand the meter served together

  @id:TC-OSEG-4.1
  Scenario: After 50 hours the cache, and the Green Button export of it, hold exactly the last 48 hours
    Given the DUT has joined and completed key establishment
    When 50 hours of network time pass
    And a home client requests the Green Button export of the last 50 hours
    Then the cached readings of the last 50 hours begin 48 hours ago, within the read interval plus tolerance
    And no two cached readings are further apart than the read interval plus tolerance
    And every cached reading is a value the meter served at its time
    And the export is a schema-valid ESPI feed with the ESI's LocalTimeParameters
    And its interval times are Unix seconds inside the requested range
    And its intervals cover the cache's 48 hours, from the first whole interval to the last
    And its ReadingType is energy in Wh, as deltas, with an ESPI power of ten
    And its interval values add up to the meter's summation delta over the intervals

  @id:TC-OSEG-4.2
  Scenario: The cache survives a power cycle of the gateway, with a gap no longer than the outage
    Given the DUT has joined and completed key establishment
    When 10 minutes of network time pass
    And the DUT's power is cut for 5 minutes
    And 10 minutes of network time pass
    Then every reading cached before the power cut is still served, unchanged but for the newest
    And the gap in the cached readings spans the outage plus at most the PIXIT rejoin time and a read interval
    And every cached reading is a value the meter served at its time

  @id:TC-OSEG-5.1
  Scenario: The Green Button export is schema-valid ESPI in Unix time whose intervals add up to the meter's
    Given the DUT has joined and completed key establishment
    When 3 hours of network time pass
    And a home client requests the Green Button export of the last 2 hours
    Then the export is a schema-valid ESPI feed with the ESI's LocalTimeParameters
    And its interval times are Unix seconds inside the requested range
    And its ReadingType is energy in Wh, as deltas, with an ESPI power of ten
    And its interval values add up to the meter's summation delta over the intervals

  @id:TC-OSEG-6.1
  Scenario: A client outside the home network is refused with 403
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then every metering resource answers a foreign client 403 with a JSON error body

  @id:TC-OSEG-6.2
  Scenario: Malformed time ranges get 400 at their boundaries, non-ASCII digits included, and the gateway keeps serving
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then a readings request with a malformed time range is answered 400 with a JSON error body
    And a readings request with non-ASCII digits in a time parameter is answered 400 with a JSON error body
    And a readings range of exactly 7 days and one of 1 second are served, one of 7 days and 1 second is not
    And a request line that is not HTTP is answered 400
    And the summation resource is still served afterwards

  @id:TC-OSEG-6.3
  Scenario: Unknown paths and non-metering resources answer 404
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then unknown paths and the utility-control paths answer 404 with a JSON error body

  @id:TC-OSEG-6.4
  Scenario: Methods other than GET answer 405
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then POST and DELETE on the metering resources answer 405 with a JSON error body

  @id:TC-OSEG-6.5
  Scenario: The API listens only on the gateway's home-network address
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then the API's port answers on the gateway's home-network address
    And nothing accepts a connection on the API's port at the gateway's address outside its home network

  @id:TC-OSEG-6.6
  Scenario: Oversized requests get 431 or 413 at the profile's limits, and the gateway keeps serving
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then a request with an 8 KiB head and a 1 KiB body is served
    And a request whose head is 64 KiB and 1 byte is answered 431 or 413 with a JSON error body
    And a request whose head holds 2,000 header fields over 64 KiB is answered 431 or 413 with a JSON error body
    And a request with a body of 64 KiB and 1 byte is answered 413 with a JSON error body
    And the summation resource is still served afterwards

  @id:TC-OSEG-6.7
  Scenario: A client that never completes its request head is cut off within the head timeout
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    And two home clients send a summation request's head one line a second, one completing it after 9 seconds
    Then the client that completed its head within the head timeout was served
    And the gateway closed the other client's connection within the head timeout and the PIXIT API latency
    And the summation resource is still served afterwards

  # HTTP/1.1 message framing (RFC 9112): a request body may come chunked (7.1) and must be read to find the next
  # request on the connection (6.3); a server MUST accept a request target in absolute-form (3.2.2); and a body
  # announced but not sent holds a connection no longer than a slow head does (docs/openseg-api.md "Profile
  # rules": the body timeout, 10 s after the head). Where the framing fails, nothing after it is a request (the
  # way to request smuggling): chunk data not followed by its CRLF (7.1), or a request whose final transfer
  # coding is not chunked, whose length cannot be known (6.3: the server MUST answer 400 and close).
  @id:TC-OSEG-6.8
  Scenario: Chunked request bodies, absolute-form targets, a stalled body and broken framing are handled as HTTP/1.1 says
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    And a home client sends a summation request with a chunked body, then a second one on the same connection
    Then both requests are answered 200 with the summation, in order
    And a summation request by its absolute URL is answered 200 with the summation
    And the gateway closes a connection whose announced body stalls within the body timeout and the PIXIT API latency
    And a chunk whose data runs past its size is answered 400 with a JSON error body, the connection closed and the request after it unanswered
    And a request whose transfer coding is gzip, not chunked, is answered 400 with a JSON error body, the connection closed and the request after it unanswered
    And the summation resource is still served afterwards

  # The limits and the framing at their edges: a head is sized as it grows, not only once it ends, and once it
  # ends too, however its bytes were read (RFC 6585 5: 431 for header fields too large); a chunked body counts against the body limit by its total, whatever its chunks;
  # a body may arrive in pieces within the body timeout (RFC 9112 6.3: the body is the Content-Length octets that
  # follow the head, however they are segmented); a target that percent-decodes to no UTF-8 is malformed or names
  # no resource (RFC 3986 2.5), and is answered.
  @id:TC-OSEG-6.9
  Scenario: Request limits and framing hold at their edges: a growing head, a head ending past the limit, a chunked body, a body in pieces, a non-UTF-8 path, a raw byte in the target
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    Then a request head that grows past 64 KiB without ending is answered 431 or 413 with a JSON error body within the PIXIT API latency
    And a request head of 64 KiB and 1 byte whose end comes in the write that takes it past 64 KiB is answered 431 or 413 with a JSON error body
    And a request with a chunked body of 64 KiB and 1 byte, each chunk under the limit, is answered 413 with a JSON error body
    And a request whose body arrives in two pieces a second apart is answered 200 with the summation
    And a request whose percent-decoded path is not UTF-8 is answered 400 or 404 with a JSON error body
    And a request whose target holds a raw byte outside visible ASCII is answered 400 with a JSON error body, or redirected to the encoded target
    And the summation resource is still served afterwards

  @id:TC-OSEG-7.1
  Scenario: A burst of 20 concurrent clients is served while the meter reads stay on schedule
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    And 20 home clients request the summation at once, 3 times 10 seconds apart
    Then every client was answered 200 with the meter's summation
    And the DUT took in the meter's readings at the read interval plus tolerance throughout the burst

  @id:TC-OSEG-7.2
  Scenario: 1,000 concurrent requests from the home network are all answered
    Given the DUT has joined and completed key establishment
    When 1 minute of network time passes
    And 1000 home clients request the summation at once
    Then every client was answered 200 with the meter's summation
