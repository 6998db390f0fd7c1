"""Render speed against the same content drawn the cheapest way bare pyvista can (``bare.py``), frame
by frame on the exporter's path (``offscreen.frames``), and renders per frame (StartEvent count).

    python benchmarks/bench_render.py            # every row
    python benchmarks/bench_render.py --quick    # fewer frames, no n = 1024 orbit
    python benchmarks/bench_render.py --chain    # only the two-cube chain (see BASELINE_chain.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Target, fmt_time  # noqa: E402
from _harness import SIZE, count_renders, race  # noqa: E402

import matviz  # noqa: E402
from matviz.animate.timeline import make_timeline  # noqa: E402
from matviz.graphics import offscreen  # noqa: E402

FRAMES = 24
MM_FPS = {64: 31.0, 256: 8.0, 1024: 0.6}  # bhosmer's mm, orbiting quietly on this machine (issue 10)
ORBIT_TARGET = {64: 30.0, 256: 15.0, 1024: 8.0}


def random_cube(n: int):
    rng = np.random.default_rng(0)
    return matviz.matmul(rng.standard_normal((n, n)), rng.standard_normal((n, n)))


def image_scene():
    return matviz.matmul(matviz.load("sample:camera", shape=(256, 256)), matviz.load("sample:moon", shape=(256, 256)))


def attention_chain():
    """softmax(Q Kᵀ/√d) V on random 12×32 Q, K, V: two linked cubes, the first with two stages."""
    from matviz.chain import attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((12, 32)) for _ in range(3))
    return attention(q, k, v)


def gpt2_head():
    """A GPT-2-shaped head: Q, K, V 256×64, causal."""
    from matviz.chain import attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((256, 64)) for _ in range(3))
    return attention(q, k, v, causal=True)


def states(scene, animation: str, n: int):
    return make_timeline(animation, scene).sample(n + 1)  # +1: the first frame is setup


def _ratio_row(figure, r, target: float, note: str = "") -> Target:
    return Target(
        figure,
        f"{fmt_time(r.frame)}/frame",
        f"{fmt_time(r.bare)}/frame",
        f"{r.ratio:.2f}×",
        f"≤ {target}×",
        r.ratio <= target,
        note,
    )


def run(quick: bool = False, renders: list | None = None) -> list[Target]:
    """Target rows; ``renders`` collects (scene kind, renders per frame) for the StartEvent row."""
    n = 8 if quick else FRAMES
    renders = [] if renders is None else renders
    rows = []

    r = race(image_scene(), states(image_scene(), "orbit", n))
    rows.append(_ratio_row("image scene frame 256²@256², orbit 1280×720, vs bare volume + textured faces", r, 1.1))
    renders.append(("single cube, volume (orbit)", r.renders_per_frame, r.bare_renders_per_frame))

    cube32 = random_cube(32)
    r = race(cube32, states(cube32, "orbit", n))
    rows.append(_ratio_row("cube interior frame 32³, orbit, vs bare merged culled mesh + textured faces", r, 1.05))
    renders.append(("single cube, cubes (orbit)", r.renders_per_frame, r.bare_renders_per_frame))
    r = race(cube32, states(cube32, "sweep", n))
    rows.append(_ratio_row("cube interior frame 32³, sweep, vs bare (full interior)", r, 1.05,
                           "bare draws every block each frame"))
    renders.append(("single cube, cubes (sweep)", r.renders_per_frame, r.bare_renders_per_frame))

    for size in (64, 256) if quick else (64, 256, 1024):
        scene = random_cube(size)
        r = race(scene, states(scene, "orbit", n if size < 1024 else max(6, n // 2)), floor=True)
        target = ORBIT_TARGET[size]
        rows.append(
            Target(
                f"orbit fps, n = {size} (grid {'x'.join(map(str, scene.blocks.shape))}, "
                f"{'volume' if int(np.prod(scene.blocks.shape)) > 32**3 else 'cubes'}), 1280×720",
                f"{r.fps:.1f} fps",
                f"{1 / r.bare:.1f} fps bare; bare without interior {1 / r.floor:.0f} fps; mm {MM_FPS[size]:g} fps",
                f"{r.fps:.1f} fps ({r.ratio:.2f}× bare's frame)",
                f"≥ {target:g} fps",
                r.fps >= target,
            )
        )

    head = gpt2_head()
    r = race(head, states(head, "orbit", n))
    rows.append(
        Target(
            "GPT-2-shaped head (Q, K, V 256×64, causal, matviz.chain.attention) orbit, 1280×720",
            f"{r.fps:.1f} fps",
            f"{1 / r.bare:.1f} fps bare (both cubes' content)",
            f"{r.fps:.1f} fps ({r.ratio:.2f}× bare's frame)",
            "≥ 4 fps",
            r.fps >= 4.0,
        )
    )
    renders.append(("chain, GPT-2 head (orbit)", r.renders_per_frame, r.bare_renders_per_frame))

    rows += run_chain(n, renders)
    renders.append(("grid of 12 heads (grid_frames, sweep)", grid_renders(), None))
    return rows


def run_chain(n: int = FRAMES, renders: list | None = None) -> list[Target]:
    """The two-cube attention chain: an orbit and a sweep, frame by frame against bare pyvista
    drawing both cubes' content. No target of its own (issue 8's regression check)."""
    rows = []
    chain = attention_chain()
    for animation in ("orbit", "sweep"):
        r = race(chain, states(chain, animation, n))
        rows.append(
            Target(
                f"two-cube chain 12×32 attention, {animation} frame (setup {r.setup:.2f} s)",
                f"{fmt_time(r.frame)}/frame",
                f"{fmt_time(r.bare)}/frame",
                f"{r.ratio:.2f}×",
                "no target (regression check)",
                None,
            )
        )
        if renders is not None:
            renders.append((f"chain, 2 cubes ({animation})", r.renders_per_frame, r.bare_renders_per_frame))
    return rows


def grid_renders(heads: int = 12, frames: int = 6) -> float:
    """Renders per frame of a grid of heads through ``offscreen.grid_frames`` (an animated sweep)."""
    from matviz.animate.export import sample_states
    from matviz.chain import attention

    rng = np.random.default_rng(0)
    scenes = []
    for h in range(heads):
        q, k, v = (rng.standard_normal((16, 8)) for _ in range(3))
        scenes.append(attention(q, k, v, causal=True, title=f"layer {h // 4} head {h % 4}"))
    sts = [sample_states(s, "sweep", fps=30.0, frames=frames, duration=None) for s in scenes]
    return count_renders(lambda: offscreen.grid_frames(scenes, sts, SIZE), frames)


def renders_row(renders: list) -> Target:
    worst = max(r for _, r, _ in renders)
    detail = "; ".join(f"{k} {r:.2f}" for k, r, _ in renders)
    bare = {b for _, _, b in renders if b is not None}
    return Target(
        "renders per frame (StartEvent), every scene kind: " + detail,
        f"max {worst:.2f}",
        f"bare {', '.join(f'{b:.2f}' for b in sorted(bare))}",
        f"{worst:.2f}",
        "exactly 1.00",
        all(abs(r - 1.0) < 1e-9 for _, r, _ in renders),
    )


if __name__ == "__main__":
    from _common import target_table

    if "--chain" in sys.argv[1:]:
        print(target_table(run_chain()))
    else:
        got: list = []
        rows = run("--quick" in sys.argv[1:], got)
        print(target_table(rows + [renders_row(got)]))
