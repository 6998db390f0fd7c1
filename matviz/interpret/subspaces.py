"""The SVD chain of a real projection matrix as an ``Output`` (``scenes/subspaces_query.py``):
``matviz subspaces --model --layer L --matrix M`` as a still, written by ``matviz gallery`` and
checked by ``matviz gallery --audit`` (the frame audit of the still, with the subspace panel)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matviz.errors import note as log_note
from matviz.outputs import no_progress


@dataclass(frozen=True)
class SubspacesSpec:
    """W = a projection matrix of ``model`` (None: the bundled all-MiniLM-L6-v2), drawn as
    U @ diag(S) @ Vt with its singular values and condition number beside it."""

    model: str | None = None
    layer: int = 0
    matrix: str = "query"
    size: tuple[int, int] = (960, 540)  # a 384x384 W's noise compresses badly: ~470 KB at 1280x720
    suffixes = (".png",)

    def _scene(self):
        from matviz.chain import expr
        from matviz.core.subspaces import subspaces
        from matviz.sources.models import projection_matrix

        w, label = projection_matrix(self.model, self.layer, self.matrix)
        m, n = w.shape
        chain = expr("svd(W)", W=w, title=f"svd(W) = U @ diag(S) @ Vt, W = {label} ({m}x{n})")
        return chain, subspaces(w)

    def write(self, out, stem: str, note=log_note, progress=no_progress) -> list[Path]:
        from matviz.animate.writers import check_output, open_writer
        from matviz.graphics import subspace_panels as sp
        from matviz.story import still_state

        path = check_output(Path(out) / f"{stem}.png")
        chain, sub = self._scene()
        note(sub.summary())
        with open_writer(path) as writer:
            for frame in sp.frames(chain, sub, [still_state(chain)], self.size, aa=True):
                writer.write_frame(frame)
        return [path]

    def audit(self, sizes) -> list:
        from matviz.graphics import subspace_panels as sp

        chain, sub = self._scene()
        return [sp.audit_still(chain, sub, tuple(size)) for size in sizes]
