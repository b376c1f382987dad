"""Golden radio backends behind zigpy ControllerApplication: sim (the simulated network); ezsp comes later."""
