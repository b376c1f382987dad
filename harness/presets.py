"""Named PIXIT presets (``--pixit-preset NAME``, env SE_PIXIT_PRESET): a set of --pixit values a lab applies at once.

``lab``: the shortest real-time waits the PIXIT bounds allow (harness.pixits: every value is its PIXIT's minimum,
so it is inside the bounds by construction), for the PIXITs that are the bench's stimulus or observation window
rather than the DUT's declared timing:

- the golden radio's silence (TC-JOIN-1.6) and the silence watched after Mgmt_Leave (TC-JOIN-1.7);
- how far ahead a DRLC event is issued, how long events last, the randomization windows, how many randomized
  events are sampled and the span and number of events of the day-long schedule.

The DUT's own timing (join_timeout, rejoin_timeout, ke_timeout, response_time, app_start_time, ...) stays what its
profile declares: a shorter timeout than the DUT declares would fail a conformant device, which no rule allows.
Like any --pixit, the preset makes the run PARTIAL and lists the PIXITs that widen a check (a shorter silence,
fewer samples) in the report; an explicit --pixit wins over the preset's value.
"""

from __future__ import annotations

from harness import pixits

#: The PIXITs the lab preset sets, each to its minimum in harness.pixits.BOUNDS.
LAB_PIXITS = ("golden_silence_time", "leave_silence_time", "drlc_start_lead", "drlc_event_duration",
              "drlc_randomization", "drlc_randomized_events", "drlc_schedule_span", "drlc_schedule_events")


def _minimum(name: str) -> str:
    bound = pixits.BOUNDS[name]
    return bound.min.text.replace(" ", "")  # "10 s" -> "10s", as one would type it after --pixit


PRESETS: dict[str, dict[str, str]] = {"lab": {name: _minimum(name) for name in LAB_PIXITS}}


class PresetError(ValueError):
    """An unknown preset name; the message lists the known ones."""


def preset(name: str) -> dict[str, str]:
    """The --pixit values of preset *name* (PIXIT -> text)."""
    values = PRESETS.get(name.strip().lower())
    if values is None:
        raise PresetError(f"no PIXIT preset {name!r}; known: {', '.join(sorted(PRESETS))} (docs/bench.md)")
    return dict(values)
