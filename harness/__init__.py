"""ZigBee Smart Energy 1.x conformance harness: the library behind the suite's steps."""
