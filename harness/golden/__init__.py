"""The utility side the harness plays on the golden radio: Trust Center policy, ZDO client and the ESI.

Everything here talks to a zigpy ControllerApplication (bellows on a bench, harness.radio.sim otherwise) and
records what it saw with bench-clock timestamps, so steps judge the DUT by the golden's observations.
"""
