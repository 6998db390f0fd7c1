"""Time: a Timeline of keyframed tracks gives a ViewState for any t; writers turn frames into files."""

from matviz.animate.timeline import TIMELINES, Key, Timeline, Track, make_timeline
from matviz.animate.writers import open_writer, check_output

__all__ = ["TIMELINES", "Key", "Timeline", "Track", "check_output", "make_timeline", "open_writer"]
