"""DUT control: how the harness makes the DUT act (join, rejoin, reset, user actions).

``sim`` drives a reference device directly; ``cli`` (serial or socket) and ``manual`` (operator prompts)
arrive with the real-bench work. Features and steps only see the :class:`DutControl` interface.
"""
