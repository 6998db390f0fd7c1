"""The promises of issue 14: every documented command runs, temp files cannot be hijacked, memory
is bounded by the size checks (tested under RLIMIT_AS, so a regression fails instead of swapping),
nothing is left behind on SIGTERM/SIGHUP/SIGINT or a full disk, and user errors are one line.

Examples run with quick-size overrides appended (later flags win in argparse), see ``quick``:
``--size 160x120`` for render/attention/demo/gallery, ``--frames 2`` for a .gif/.mp4 (or an
audit), ``--duration 0.1 --fps 10`` for demo/gallery, ``--steps 2 --no-video`` for fit; ``show``
runs with ``matviz.show`` replaced by a stub (no window on a test machine). The README's commands
run in an empty directory, after the ``python -c`` lines of their block (which make the input
files); ``--help`` examples run beside the files they name. ``matviz gallery`` runs as documented
on a folder of one shipped scene: the whole gallery runs once, in test_gallery.py's audit. The
README's Python blocks run as one script with no display, and its notebook block in a fresh kernel.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import matviz
from matviz import cli
from matviz.animate import writers
from matviz.errors import MatvizError, OutputError

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--size", "160x120"]


# ---- 1. every command example of the README and of each --help runs ----


def _commands(lines: list[str], starts: tuple[str, ...] = ("matviz ",)) -> list[str]:
    """Commands in ``lines`` that start with one of ``starts``, backslash continuations joined."""
    out, current = [], None
    for raw in lines:
        line = raw.strip()
        if current is None:
            if not line.startswith(starts):
                continue
            current = ""
        current += " " + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            out.append(current.strip())
            current = None
    return out


def _code_blocks(text: str) -> list[tuple[str, str, list[str]]]:
    """(heading above it, fence language, lines) of each fenced or indented code block."""
    out, heading, fence, indented = [], "", None, None
    for line in text.splitlines():
        if fence is not None:
            if line.strip().startswith("```"):
                out.append((heading, fence[0], fence[1]))
                fence = None
            else:
                fence[1].append(line)
            continue
        if line.startswith("    ") and line.strip():
            if indented is None:
                indented = []
                out.append((heading, "", indented))
            indented.append(line)
            continue
        if line.strip():
            indented = None
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.strip().startswith("```"):
            fence = (line.strip()[3:].strip(), [])
    return out


README_SETUP: dict[str, tuple[str, ...]] = {}  # a README command -> the python -c lines before it in its block


def readme_examples() -> list[str]:
    """The README's ``matviz`` commands; the ``python -c`` lines of a block that make its input
    files are kept in ``README_SETUP`` and run first, in the same (empty) directory."""
    out = []
    for _, _, lines in _code_blocks((ROOT / "README.md").read_text()):
        setup = []
        for command in _commands(lines, ("matviz ", "python -c ")):
            if command.startswith("python "):
                setup.append(command)
            else:
                README_SETUP.setdefault(command, tuple(setup))
                out.append(command)
    return out


def readme_python() -> list[tuple[str, str]]:
    """The README's Python examples: the blocks of "Python" before "In a notebook" build on each
    other and run as one script; a notebook block runs alone, in a fresh kernel."""
    blocks = [(h, lines) for h, lang, lines in _code_blocks((ROOT / "README.md").read_text()) if lang == "python"]
    script = "\n".join(line for h, lines in blocks if h != "In a notebook" for line in lines)
    cells = ["\n".join(lines) for h, lines in blocks if h == "In a notebook"]
    return [("README Python", script)] + [("README notebook", cell) for cell in cells]


def help_examples() -> list[tuple[str, str]]:
    parser = cli.build_parser()
    found = [("matviz", cmd) for cmd in _commands((parser.epilog or "").splitlines())]
    sub = next(a for a in parser._actions if a.choices and "render" in a.choices)
    for name, p in sub.choices.items():
        found += [(name, cmd) for cmd in _commands((p.epilog or "").splitlines())]
    return found


ALL_EXAMPLES = [("README", c) for c in readme_examples()] + [(f"{w} --help", c) for w, c in help_examples()]


def split(command: str) -> list[str]:
    """Shell words of ``command`` up to a ``#`` comment (a ``#`` inside a word, e.g. the#2, stays)."""
    quote = None
    for i, ch in enumerate(command):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1].isspace()):
            command = command[:i]
            break
    return shlex.split(command)


def _once(examples: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each distinct command once (the same words, whatever the comment): ``--help`` repeats many
    README examples, and running one twice tests nothing more."""
    seen, out = set(), []
    for where, command in examples:
        key = tuple(split(command))
        if key not in seen:
            seen.add(key)
            out.append((where, command))
    return out


EXAMPLES = _once(ALL_EXAMPLES)


def quick(argv: list[str]) -> list[str]:
    """``argv`` with the quick-size overrides for its command appended."""
    cmd = argv[0]
    out = next((argv[i + 1] for i, a in enumerate(argv) if a in ("-o", "--output")), "")
    extra = []
    if cmd in ("render", "attention"):
        if "--audit" in argv:  # an audit checks the documented size; fewer frames only
            extra += ["--frames", "2"] if "--frames" in argv else []
        elif "--flat" not in argv:  # --flat writes the matrix alone, one pixel per entry: no --size
            extra += QUICK
            if Path(out).suffix in (".gif", ".mp4"):
                extra += ["--frames", "2"]
    elif cmd == "show":
        extra += QUICK
    elif cmd in ("demo", "gallery"):
        extra += QUICK + ["--duration", "0.1", "--fps", "10"]
    elif cmd == "fit":
        extra += ["--steps", "2", "--no-video"]
    return argv + extra


def help_files(folder: Path) -> None:
    """The files the ``--help`` examples name (shapes that fit together). The README's examples
    make their own files; the ``--help`` texts (in the CLI) still name these."""
    rng = np.random.default_rng(0)
    np.save(folder / "A.npy", rng.normal(size=(3, 4)))
    np.save(folder / "B.npy", rng.normal(size=(4, 2)))
    for name in "qkv":
        np.save(folder / f"{name}.npy", rng.normal(size=(6, 4)))
    np.save(folder / "target.npy", rng.normal(size=(16, 16)))
    shutil.copytree(ROOT / "matviz" / "scenes", folder / "scenes")


PYTHON = readme_python()


def test_examples_were_found():
    where = {w for w, _ in ALL_EXAMPLES}
    assert len([1 for w, _ in EXAMPLES if w == "README"]) >= 20
    assert len(EXAMPLES) < len(ALL_EXAMPLES)  # --help repeats README examples: each runs once
    assert {tuple(split(c)) for _, c in EXAMPLES} == {tuple(split(c)) for _, c in ALL_EXAMPLES}
    assert {"matviz --help", "render --help", "show --help", "attention --help", "heads --help", "fit --help"} <= where
    assert [w for w, _ in PYTHON] == ["README Python", "README notebook"]
    assert "mv.show(s)" in PYTHON[0][1] and "mv.attention_from_model" in PYTHON[0][1]
    assert any(README_SETUP.values()), "no README block makes its input files first"


def _run_python(where: str, code: str, cwd: Path) -> None:
    """A README Python example, as pasted: a script with no display (``mv.show`` must not stop it),
    or a notebook cell in a fresh kernel; then every file it names exists."""
    if where == "README Python":
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        r = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
    else:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
        shown = [o for o in nb.cells[0].outputs if o.output_type in ("display_data", "execute_result")]
        assert len(shown) >= 2, nb.cells[0].outputs  # mv.show(s), then the cell's last line
    for name in re.findall(r"\"([\w.]+\.(?:png|mp4|gif|html))\"", code):
        assert (cwd / name).is_file(), f"{where} wrote no {name}"


@pytest.mark.parametrize(
    "where,command", EXAMPLES + PYTHON, ids=[f"{w}: {c.splitlines()[0][:70]}" for w, c in EXAMPLES + PYTHON]
)
def test_documented_example_runs(where, command, tmp_path, monkeypatch, capsys):
    """README examples run as pasted in an empty directory (the ``python -c`` lines of their block
    first: they make the input files); ``--help`` examples run beside the files they name."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    if where in ("README Python", "README notebook"):
        return _run_python(where, command, cwd)
    if where == "README":
        for line in README_SETUP[command]:
            r = subprocess.run([sys.executable, *split(line)[1:]], cwd=cwd, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, f"{line}\n{r.stderr}"
    else:
        help_files(cwd)
    if command.startswith("matviz fit ... "):  # "continue a run": the first fit example, then again with --resume
        first = next(c for w, c in ALL_EXAMPLES if w == where and c.startswith("matviz fit ") and "..." not in c)
        assert cli.main(quick(split(first)[1:])) == 0
        command = command.replace("matviz fit ...", first.split(" -o ")[0])
    argv = split(command)[1:]
    assert "-o" not in argv or argv[0] != "show", f"show writes nothing, yet its example uses -o: {command}"
    extra = []
    if argv[0] == "gallery" and "--scenes" not in argv and "--audit" not in argv:
        # the whole gallery runs once, in test_gallery.py's audit; here the command runs as
        # documented (default -o gallery/) on a folder of one shipped scene
        one = tmp_path / "one-scene"
        one.mkdir()
        shutil.copy(ROOT / "matviz" / "scenes" / "textbook.py", one)
        extra = ["--scenes", str(one)]
    shown = []
    monkeypatch.setenv("DISPLAY", "fakehost:0")  # a remote display: the local-socket check does not apply
    monkeypatch.setattr(matviz, "show", lambda scene, *a, **k: shown.append(scene))
    pytest.importorskip("torch") if argv[0] == "fit" else None
    rc = cli.main(quick(argv) + extra)
    err = capsys.readouterr().err
    assert rc == 0, f"{where}: {command}\n{err}"
    if argv[0] == "show":
        assert shown, command
    out = next((argv[i + 1] for i, a in enumerate(argv) if a in ("-o", "--output")), None)
    if argv[0] == "gallery" and extra:
        assert {"textbook.png", "textbook.mp4"} <= {p.name for p in (cwd / (out or "gallery")).iterdir()}, err
    if out is not None:
        assert (cwd / out).exists(), f"{where}: {command} wrote no {out}"


READS = ("--left", "--right", "--weights", "--input", "--target", "--target-of", "--param", "--set", "--model")


def unmade_inputs(text: str) -> list[str]:
    """Files a README command reads that no ``python -c`` line before it in its block makes: an
    operand that is not a spec (``sample:``, ``random:``, a literal…), nor a ``scene:`` name."""
    out = []
    for _, _, lines in _code_blocks(text):
        made = ""
        for command in _commands(lines, ("matviz ", "python -c ")):
            if command.startswith("python "):
                made += command
                continue
            words = split(command)[1:]
            values = [words[i + 1] for i, w in enumerate(words[:-1]) if w in READS and not words[i + 1].startswith("--")]
            values += [w for w in words[1:2] if w.endswith(".py")]  # a scene script as the first argument
            for value in values:
                value = value.split("=", 1)[1] if "=" in value and not value.startswith("[") else value
                if ":" in value or value.startswith("[") or not value or re.fullmatch(r"[-\d.e]+", value):
                    continue  # a spec, a literal or a number
                if f"'{value}'" not in made and f'"{value}"' not in made:
                    out.append(f"{command}: reads {value}, which nothing in its block makes")
    return out


def test_readme_examples_read_only_what_their_block_makes():
    assert unmade_inputs((ROOT / "README.md").read_text()) == []


def test_unmade_inputs_flags_a_file_nobody_has():
    """Negative control: the README's old examples (files nobody had) are flagged; made first, not."""
    old = "```bash\nmatviz render --left A.npy --right B.npy -o x.gif\nmatviz render scenes/textbook.py -o t.mp4\n" \
          "matviz render \"Q @ K.T\" --set Q=q.npy --set K=random:8x4 -o a.mp4\n```\n" \
          "    matviz subspaces --weights W.npy --input random:8x8 -o svd.png\n"
    assert unmade_inputs(old) == [
        "matviz render --left A.npy --right B.npy -o x.gif: reads A.npy, which nothing in its block makes",
        "matviz render --left A.npy --right B.npy -o x.gif: reads B.npy, which nothing in its block makes",
        "matviz render scenes/textbook.py -o t.mp4: reads scenes/textbook.py, which nothing in its block makes",
        "matviz render \"Q @ K.T\" --set Q=q.npy --set K=random:8x4 -o a.mp4: reads q.npy, which nothing in its block makes",
        "matviz subspaces --weights W.npy --input random:8x8 -o svd.png: reads W.npy, which nothing in its block makes",
    ]
    made = "```bash\npython -c \"import numpy as np; np.save('A.npy', np.eye(2)); np.save('B.npy', np.eye(2))\"\n" \
           "matviz render --left A.npy --right B.npy -o x.gif\n```\n"
    assert unmade_inputs(made) == []


def tracked_outputs(text: str) -> list[str]:
    """README commands whose ``-o`` lands in a folder the repository tracks (run from a clone, they
    would overwrite it, or be refused as a non-empty run directory)."""
    tracked = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")} - {"README.md"}
    out = []
    for _, _, lines in _code_blocks(text):
        for command in _commands(lines):
            words = split(command)
            target = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output")), None)
            if target is not None and Path(target).parts[0] in tracked:
                out.append(f"{command}: writes into the tracked {Path(target).parts[0]}/")
    return out


def test_readme_examples_write_nothing_tracked():
    assert tracked_outputs((ROOT / "README.md").read_text()) == []
    old = "    matviz fit 'normalize(A.T @ A)' --param A=sample:camera --target-of sample:camera -o gallery/fit\n"
    assert tracked_outputs(old) == [f"{old.strip()}: writes into the tracked gallery/"]  # the old fit example


def test_the_python_example_runs_where_no_window_can_open(tmp_path):
    """Control of the README Python run: under the environment it gets, a window cannot open
    (so the run proves that ``mv.show`` is guarded, not that a display happened to be there)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    code = "import matviz as mv; mv.show(mv.matmul([[1.0]], [[2.0]]))"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no display" in r.stderr, r.stderr[-2000:]


def test_python_dash_m_matviz_runs():
    r = subprocess.run([sys.executable, "-m", "matviz", "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("matviz "), r.stderr


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert "DESIGN.md" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"


# ---- helpers: the CLI in a subprocess, optionally under a memory limit ----

RUNNER = textwrap.dedent(
    """
    import resource, sys
    limit = int(sys.argv[1])
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from matviz.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)
LIMIT = 1536 * 2**20  # a render of a small scene needs well under this much address space


def run_cli(args, cwd, limit: int = 0, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(limit), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("matviz: error: "), r.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def start_cli(args, cwd) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "0", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


# ---- 2. temp files: unpredictable, exclusive, never followed ----


def test_symlinks_planted_at_temp_names_are_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    pid = os.getpid()
    (out / f".x.partial-{pid}.png").symlink_to(victim)  # the old, guessable name
    for tail in ["", "-", *(f"-{i:08d}" for i in range(200)), *(f"-{c * 8}" for c in "abcxyz_019")]:
        link = out / f".x.partial-{pid}{tail}.png"
        if not link.exists() and not link.is_symlink():
            link.symlink_to(victim)
    matviz.render(matviz.matmul(np.eye(2), np.eye(2)), out / "x.png", size=(160, 120))
    assert victim.read_text() == "precious"
    assert (out / "x.png").is_file() and not (out / "x.png").is_symlink()
    assert (out / "x.png").read_bytes().startswith(b"\x89PNG")


def test_outputs_get_the_usual_mode_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = matviz.render(matviz.matmul(np.eye(2), np.eye(2)), tmp_path / "x.png", size=(32, 32))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_temp_names_are_unpredictable_and_exclusive(tmp_path):
    first, second = writers._temp(tmp_path / "x.png"), writers._temp(tmp_path / "x.png")
    assert first != second and first.exists() and second.exists()
    assert re.fullmatch(rf"\.x\.partial-{os.getpid()}-\w{{8}}\.png", first.name)


# ---- 3. memory bounded by the size checks (RLIMIT_AS) ----


def test_expression_checks_the_result_size_before_computing_it(tmp_path):
    r = run_cli(["render", "A @ B", "--set", "A=random:40000x2", "--set", "B=random:2x40000", "-o", "x.png"], tmp_path, LIMIT)
    one_line_error(r, "40000×40000", "more than 67,108,864")
    assert list(tmp_path.iterdir()) == []


def _tiff_bomb(path: Path, side: int = 20000, rows: int = 1000) -> None:
    """A deflate-compressed side x side 8-bit TIFF of about 20 KB: every strip is the same zeros."""
    strip = zlib.compress(bytes(side * rows), 9)
    n = side // rows
    entries = [
        (256, 4, 1, side), (257, 4, 1, side), (258, 3, 1, 8), (259, 3, 1, 8), (262, 3, 1, 1),
        (273, 4, n, None), (277, 3, 1, 1), (278, 4, 1, rows), (279, 4, n, None),
    ]  # fmt: skip
    ifd_at = 8
    after_ifd = ifd_at + 2 + 12 * len(entries) + 4
    offsets_at, counts_at, strip_at = after_ifd, after_ifd + 4 * n, after_ifd + 8 * n
    body = struct.pack("<2sHI", b"II", 42, ifd_at) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = offsets_at
        elif tag == 279:
            value = counts_at
        body += struct.pack("<HHI", tag, kind, count) + (
            struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        )
    body += struct.pack("<I", 0) + struct.pack(f"<{n}I", *[strip_at] * n) + struct.pack(f"<{n}I", *[len(strip)] * n)
    path.write_bytes(body + strip)


def test_image_size_is_checked_from_the_header_before_decoding(tmp_path):
    _tiff_bomb(tmp_path / "bomb.tif")
    assert (tmp_path / "bomb.tif").stat().st_size < 100_000
    r = run_cli(["render", "--left", "bomb.tif", "--right", "ones:2x2", "-o", "x.png"], tmp_path, LIMIT)
    one_line_error(r, "20000×20000", "more than the 67,108,864")


def test_non_regular_files_are_refused(tmp_path):
    (tmp_path / "z.csv").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "f.npy")
    for name in ("z.csv", "f.npy"):
        r = run_cli(["render", "--left", name, "--right", "ones:2x2", "-o", "x.png"], tmp_path, LIMIT, timeout=60)
        one_line_error(r, "not a regular file")


def test_text_reads_are_capped(tmp_path):
    from matviz.sources.files import MAX_TEXT_BYTES

    with open(tmp_path / "huge.csv", "wb") as f:  # sparse: no disk used
        f.truncate(MAX_TEXT_BYTES + 1)
    r = run_cli(["render", "--left", "huge.csv", "--right", "ones:2x2", "-o", "x.png"], tmp_path, LIMIT, timeout=60)
    one_line_error(r, "bytes")


def test_frames_and_duration_are_bounded(tmp_path):
    r = run_cli(["render", "--left", "eye:2", "--right", "eye:2", "--frames", "200000000", "-o", "x.mp4"], tmp_path, LIMIT)
    assert r.returncode == 2 and "100,000" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_cli(["render", "--left", "eye:2", "--right", "eye:2", "--duration", "1e9", "-o", "x.mp4"], tmp_path, LIMIT)
    one_line_error(r, "100,000")
    assert list(tmp_path.iterdir()) == []


def test_frame_states_are_streamed_not_built_up_front(tmp_path, monkeypatch):
    from matviz.animate.timeline import Timeline

    def built_up_front(self, n):
        raise AssertionError("export built every state before rendering")

    monkeypatch.setattr(Timeline, "sample", built_up_front)
    paths = matviz.export(matviz.matmul(np.eye(2), np.eye(2)), tmp_path / "x.gif", "sweep", size=(32, 32), frames=3)
    assert paths == [tmp_path / "x.gif"]


def test_a_gif_too_big_for_memory_is_refused_with_an_estimate(tmp_path):
    r = run_cli(["render", "--left", "eye:2", "--right", "eye:2", "--size", "3840x2160", "-o", "x.gif"], tmp_path, LIMIT)
    one_line_error(r, "GiB", ".mp4")
    assert list(tmp_path.iterdir()) == []


# ---- 4. nothing left behind ----


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".partial-" in p.name]


@pytest.mark.parametrize(
    "name,sig,extra",
    [
        ("x.mp4", signal.SIGTERM, ["--duration", "60"]),
        ("x.png", signal.SIGTERM, ["--frames", "2000", "--animation", "sweep"]),
        ("x.mp4", signal.SIGHUP, ["--duration", "60"]),
    ],
    ids=["mp4-SIGTERM", "png-sequence-SIGTERM", "mp4-SIGHUP"],
)
def test_termination_leaves_nothing(tmp_path, name, sig, extra):
    proc = start_cli(["render", "--left", "random:6x6", "--right", "random:6x6", "--size", "160x120", *extra, "-o", name], tmp_path)
    try:
        wait_for(lambda: len(_partials(tmp_path)) >= 2 if name.endswith(".png") else _partials(tmp_path))
        time.sleep(0.5)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines()[-1].startswith("matviz: interrupted"), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("recorded", [True, False], ids=["in-the-writer", "not-yet-recorded"])
def test_a_signal_just_after_a_temp_file_is_made_leaves_nothing(tmp_path, monkeypatch, capsys, recorded):
    """The race a SIGTERM once hit in CI (a PNG sequence left ``.x_0006.partial-….png``): the
    signal landed after the temp file existed but before its writer had recorded it. ``_temp`` now
    records it in the writer's own list (and in ``LIVE_TEMPS``) with the signals held back, so the
    writer's abort removes it; a temp file no writer has recorded yet (``not-yet-recorded``, like
    fit's checkpoints between ``_temp`` and their ``try``) is removed by the CLI's interrupt path
    from ``LIVE_TEMPS``. The interrupt is raised right after ``_temp`` returns."""
    original = writers._temp
    calls = []

    def interrupted(path, pairs=None):
        tmp = original(path, pairs if recorded else None)
        calls.append(tmp)
        if len(calls) == 3:
            assert tmp in writers.LIVE_TEMPS  # registered before anything could interrupt
            raise cli.Terminated(signal.SIGTERM)
        if not recorded and pairs is not None:
            pairs.append((tmp, path))
        return tmp

    monkeypatch.setattr(writers, "_temp", interrupted)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["render", "--left", "random:6x6", "--right", "random:6x6", "--size", "160x120",
                     "--frames", "8", "--animation", "sweep", "-o", "x.png"])
    assert code == 128 + signal.SIGTERM and len(calls) == 3
    assert "matviz: interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "a temp file made just before the signal was left behind"


ENCODE_PROBE = textwrap.dedent(
    """
    import sys
    from imageio.plugins.pillow import PillowPlugin
    flush = PillowPlugin._flush_writer
    def probed(self):
        if self.images_to_write:
            sys.stderr.write(f"probe: encoding {len(self.images_to_write)} buffered GIF frame(s)\\n")
            sys.stderr.flush()
        return flush(self)
    PillowPlugin._flush_writer = probed
    from matviz.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)  # the CLI with Pillow's GIF encode reported on stderr (it encodes every buffered frame at once)


def test_ctrl_c_on_a_gif_returns_promptly_and_leaves_nothing(tmp_path):
    """Promptly means: the frames buffered so far are dropped, not encoded (an encode on abort
    takes seconds for a long GIF), and nothing is left. The probe says whether Pillow encoded."""
    argv = ["render", "--left", "random:6x6", "--right", "random:6x6", "--size", "320x240", "--duration", "60", "-o", "x.gif"]
    proc = subprocess.Popen([sys.executable, "-c", ENCODE_PROBE, *argv], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _partials(tmp_path))
        time.sleep(3)  # some frames buffered, so that an encode on abort would have something to encode
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)  # a hang guard, not a speed claim
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "probe: encoding" not in err, err
    assert list(tmp_path.iterdir()) == []


def test_the_encode_probe_sees_an_encode(tmp_path):
    """Negative control of the probe above: a GIF closed normally is encoded, and the probe says so."""
    argv = ["render", "--left", "random:6x6", "--right", "random:6x6", "--size", "64x48", "--frames", "3", "-o", "x.gif"]
    r = subprocess.run([sys.executable, "-c", ENCODE_PROBE, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "probe: encoding" in r.stderr and (tmp_path / "x.gif").is_file(), r.stderr


def test_gif_abort_does_not_encode_later(tmp_path):
    w = writers.open_writer(tmp_path / "x.gif", 10, 3)
    w.write_frame(np.zeros((16, 16, 3), np.uint8))
    w.abort()
    inner = w._w
    del w
    inner.__del__()  # what the garbage collector does: must not encode into the (deleted) temp path
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def full_disk(tmp_path):
    """A 512 KB tmpfs (root), else skip."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a small tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


@pytest.mark.parametrize("name,extra", [("x.gif", ["--frames", "30"]), ("x.mp4", ["--frames", "30"]), ("x.png", ["--frames", "30"])])
def test_full_disk_is_one_line_and_leaves_nothing(full_disk, name, extra):
    r = run_cli(["render", "--left", "random:64x64", "--right", "random:64x64:seed=1", "--size", "640x480", "--animation", "sweep", *extra, "-o", full_disk / name], full_disk.parent)
    one_line_error(r, "no space left")
    assert list(full_disk.iterdir()) == []


def test_injected_enospc_in_a_gif_close_leaves_nothing(tmp_path, monkeypatch, capsys):
    import errno

    from imageio.plugins.pillow import PillowPlugin

    def full(self):
        if self.images_to_write:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PillowPlugin, "_flush_writer", full)
    rc = cli.main(["render", "--left", "eye:2", "--right", "eye:2", "--size", "32x32", "--frames", "2", "-o", str(tmp_path / "x.gif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "no space left" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_stale_partials_of_the_same_output_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [tmp_path / f".x.partial-{dead.pid}-abcdefgh.png", tmp_path / f".x_0003.partial-{dead.pid}-abc_0123.png"]
    kept = [
        tmp_path / f".x.partial-1-abcdefgh.png",  # pid 1 is alive: another run's
        tmp_path / f".y.partial-{dead.pid}-abcdefgh.png",  # another output's
        tmp_path / f".x.partial-{dead.pid}.png",  # not matviz's pattern
        tmp_path / "x.partial.png",
    ]
    for p in stale + kept:
        p.write_text("old")
    matviz.render(matviz.matmul(np.eye(2), np.eye(2)), tmp_path / "x.png", size=(32, 32))
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


# ---- 5. silently wrong -> errors ----


def test_overflow_to_inf_is_refused(tmp_path):
    r = run_cli(["render", "--left", "[[1e154,1e154]]", "--right", "[[1e154],[1e154]]", "-o", "x.png"], tmp_path)
    one_line_error(r, "overflows")
    with pytest.raises(MatvizError, match="overflows"):
        matviz.matmul(np.array([[1e200]]), np.array([[1e200]]))


def test_largest_size_is_not_an_all_black_frame(tmp_path):
    # in a subprocess: a child inherits its parent's peak RSS, which other tests measure
    r = run_cli(["render", "--left", "eye:2", "--right", "eye:2", "--size", "7680x4320", "-o", "big.png"], tmp_path)
    assert r.returncode == 0, r.stderr
    import imageio.v3 as iio

    img = iio.imread(tmp_path / "big.png")
    assert img.shape == (4320, 7680, 3) and img.any()


def test_an_all_black_frame_is_refused(tmp_path, monkeypatch):
    import matviz.graphics.offscreen as offscreen

    monkeypatch.setattr(offscreen, "screenshot", lambda plotter: np.zeros((120, 160, 3), np.uint8))
    with pytest.raises(OutputError, match="all-black"):
        matviz.export(matviz.matmul(np.eye(2), np.eye(2)), tmp_path / "x.png", size=(160, 120))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [(0, 0), (-5, 10), (100000, 100000), (float("nan"), 10), (1e300, 1e300), (160,)])
def test_bad_sizes_are_refused(tmp_path, size):
    scene = matviz.matmul(np.eye(2), np.eye(2))
    with pytest.raises(OutputError, match="size"):
        matviz.export(scene, tmp_path / "x.mp4", "sweep", size=size)
    with pytest.raises(OutputError, match="size"):
        matviz.render(scene, tmp_path / "x.png", size=size)
    assert list(tmp_path.iterdir()) == []


def test_masked_arrays_are_refused():
    a = np.ma.masked_array(np.eye(2), mask=[[0, 1], [0, 0]])
    with pytest.raises(MatvizError, match="masked"):
        matviz.matmul(a, np.eye(2))
    with pytest.raises(MatvizError, match="masked"):
        matviz.load(a)


def test_a_scene_script_calling_sys_exit_is_an_error(tmp_path):
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(0)\n")
    r = run_cli(["render", "quits.py", "-o", "x.png"], tmp_path)
    one_line_error(r, "sys.exit")
    (tmp_path / "quits2.py").write_text("import sys\ndef build():\n    sys.exit(0)\n")
    one_line_error(run_cli(["render", "quits2.py", "-o", "x.png"], tmp_path), "sys.exit")


def test_show_without_a_display_raises(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(MatvizError, match="no display"):
        matviz.show(matviz.matmul(np.eye(2), np.eye(2)))


# ---- 6. one line, not a traceback ----


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--fps", "inf", "-o", "x.mp4"], "--fps"),
        (["--fps", "1e-9", "-o", "x.mp4"], "0.1 to 240"),
        (["--fps", "nan", "-o", "x.mp4"], "--fps"),
        (["--duration", "inf", "-o", "x.mp4"], "--duration"),
        (["-o", "a" * 240 + ".png"], "too long"),
    ],
    ids=["fps-inf", "fps-tiny", "fps-nan", "duration-inf", "long-name"],
)
def test_user_errors_are_one_line(tmp_path, args, needle):
    r = run_cli(["render", "--left", "eye:2", "--right", "eye:2", *args], tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("matviz: error: ") and needle in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_400_digit_literal_is_one_line(tmp_path):
    r = run_cli(["render", "--left", f"[[1{'0' * 400}]]", "--right", "eye:1", "-o", "x.png"], tmp_path)
    one_line_error(r, "too large")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fps": float("nan")},
        {"fps": float("inf")},
        {"fps": 1e-9},
        {"fps": 1e300},
        {"frames": 10**12},
        {"frames": float("nan")},
        {"duration": float("nan")},
        {"duration": 1e300},
    ],
)
def test_nan_and_huge_api_arguments_are_matviz_errors(tmp_path, kwargs):
    with pytest.raises(MatvizError):
        matviz.export(matviz.matmul(np.eye(2), np.eye(2)), tmp_path / "x.mp4", "sweep", size=(32, 32), **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_show_with_a_display_whose_server_is_not_running_is_one_line(monkeypatch, tmp_path):
    """DISPLAY set to a local X server that does not exist used to open nothing and exit 0 (row M15)."""
    import matviz as mv
    from matviz.cli import main

    free = next(n for n in range(4242, 4300) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{free}")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert mv.display_problem() == f"no X server at DISPLAY=:{free} (no /tmp/.X11-unix/X{free})"
    with pytest.raises(mv.MatvizError, match="no X server"):
        mv.show(mv.matmul([[1.0]], [[2.0]]))
    assert main(["show", "--left", "[[1,2],[3,4]]", "--right", "[[1,0],[0,1]]"]) == 2


def test_sigterm_exits_even_when_cleanup_blocks(tmp_path):
    """If a library blocks the cleanup after SIGTERM (ffmpeg that never finishes, say), a watchdog
    removes this process's temp files and exits after a grace period: nothing left, no hang. The
    blocked cleanup says it was reached, so the exit really came from the watchdog."""
    script = (
        "import sys, time\n"
        "import matviz.cli as cli, matviz.animate.writers as w\n"
        "cli.TERMINATE_GRACE = 1.0\n"
        "def blocked(self):\n"
        "    sys.stderr.write('probe: cleanup blocked\\n'); sys.stderr.flush(); time.sleep(1000)\n"
        "w.Mp4Writer._discard = blocked\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    argv = ["render", "--left", "random:6x6", "--right", "random:6x6", "--size", "160x120", "--duration", "60", "-o", "x.mp4"]
    proc = subprocess.Popen([sys.executable, "-c", script, *argv], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _partials(tmp_path))
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)  # a hang guard: the blocked cleanup sleeps 1000 s
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "probe: cleanup blocked" in err, err
    assert err.strip().splitlines()[-1].startswith("matviz: interrupted"), err
    assert list(tmp_path.iterdir()) == []
