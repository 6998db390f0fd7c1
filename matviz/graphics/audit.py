"""The frame audit: what a viewer actually sees in one rendered frame (stub; being written).

Measured from the real render (VTK's coordinate transforms, depth passes), never from a second
model of the layout. See ``Report`` for what is reported and ``RULES`` for what is a violation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Violation:
    rule: str  # one of RULES
    message: str  # one line naming what is wrong, e.g. "text 'A (2x3)' overlaps 'i (m=2)'"


@dataclass
class Report:
    """One frame: faces, texts, legends as seen, and the rules it breaks."""

    size: tuple[int, int]
    frame: int | None = None  # index of the sampled frame (None: a still)
    faces: list[dict] = field(default_factory=list)  # name, data_range, color_range, visible, area, angle
    texts: list[dict] = field(default_factory=list)
    legends: list[dict] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return asdict(self)


def audit_frames(scene, states, size=(1280, 720)) -> list[Report]:
    """One Report per ViewState of ``states``, each measured on the real render."""
    return [Report(size=tuple(size), frame=i) for i, _ in enumerate(states)]


def audit(scene, state=None, size=(1280, 720)) -> Report:
    """The Report of one frame of ``scene`` (default: its initial state, the default still)."""
    reports = audit_frames(scene, [state], size)
    reports[0].frame = None
    return reports[0]
