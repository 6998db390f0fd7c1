"""A scene as one self-contained HTML page that works offline: VTK's web export, not hand-written WebGL.

The finished scene (every k-block summed, every stage applied) is drawn once in an offscreen
plotter, with each k-block of each cube's interior as its own actor (``interior.CubesInterior``
already draws it so), and serialized by trame-vtk (pyvista's ``export_html``: vtk.js in one file,
the scene embedded as a base64 zip). Around vtk.js's viewer the page gets:

* a small panel: the title, a slider that steps through the sum over k (it shows the interior's
  k-blocks up to the one chosen, step after step for a chain), and checkboxes for the interior and
  the highlighted dot product -- the window's step keys and ``i``/``h`` keys, in a page;
* a list of the faces (name, shape, value range): VTK's 2D text actors and legends are not
  exported by vtk.js's serializer, so what they say is written in the page instead;
* no network: vtk.js's favicons (``<link rel=icon>`` to kitware.github.io) are stripped and a
  Content-Security-Policy forbids any fetch, so opening the file sends nothing anywhere.

The panel finds the actors by their order in the serialized renderer (read back from the export
itself), and refuses to drive them -- saying so in the page -- if vtk.js built a different number.
"""

from __future__ import annotations

import html as _html
import io
import json
import re
import zipfile
from dataclasses import dataclass, replace

import numpy as np

from matviz.errors import BudgetError, MissingDependency, install_hint, param

EXTRAS = ("trame_vtk",)  # VTK's scene serializer for vtk.js and its offline viewer page
PIP_EXTRA = install_hint("web")
HTML_MAX_BYTES = 64 * 2**20  # a page larger than this loads for minutes (or not at all) in a browser tab
FAVICON = re.compile(r"https://kitware\.github\.io/vtk-js/icon/favicon-\$\{\w+\}x\$\{\w+\}\.png")
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src data: blob:; worker-src blob:"
)


def missing_extras() -> list[str]:
    """The Python packages of the web export that are not installed."""
    import importlib.util

    return [name for name in EXTRAS if importlib.util.find_spec(name) is None]


def require_extras() -> None:
    missing = missing_extras()
    if missing:
        raise MissingDependency(
            f"an HTML export needs {', '.join(m.replace('_', '-') for m in missing)} (VTK's web export): {PIP_EXTRA}"
        )


def _finished(chain):
    """The state the page starts from: everything summed and applied, the interior shown."""
    return replace(chain.initial_state(), k_done=None, post=None, cube=None, show_interior=True)


@dataclass(frozen=True)
class Layer:
    """One step of the page's slider: its label, the interior actors it shows and their cubes."""

    label: str
    names: tuple[str, ...]
    cubes: frozenset[int]


@dataclass(frozen=True)
class RunningFace:
    """A result face that grows with the slider on the page: its cube, the actor of the final face
    and one actor per partial sum over k, in order."""

    cube: int
    final: str
    partial: tuple[str, ...]


def _layers(view) -> list[Layer]:
    """The steps of the slider in story order: one ``Layer`` per k-block of each step (a volume
    interior is one layer: vtk.js cannot crop it per block)."""
    chain, out = view.chain, []
    actors = view.plotter.renderer.actors
    for step in range(chain.n_steps):
        cubes = [c for c, s in enumerate(chain.steps) if s == step]
        prefix = f"step {step + 1}/{chain.n_steps}: " if chain.n_steps > 1 else ""
        for b in range(chain.k_steps(step)):
            slices = [(c, f"c{c}-interior-{b}") for c in cubes if f"c{c}-interior-{b}" in actors]
            volumes = [(c, f"c{c}-interior-volume") for c in cubes if b == 0 and f"c{c}-interior-volume" in actors]
            if not slices + volumes:
                continue
            cube = chain.cubes[cubes[0]]
            k = cube.shape[1]
            upto = int(cube.blocks.edges_k[min(b + 1, cube.k_steps)])
            label = f"{prefix}sum over k: {upto}/{k}" if slices else f"{prefix}products"
            shown = slices + volumes
            out.append(Layer(label, tuple(n for _, n in shown), frozenset(c for c, _ in shown)))
    return out


RUNNING_TEXTURE_BYTES = 2 * 2**20  # raw RGB texels a textured result face may add for its partial sums (a 256x256
# product over 32 k-blocks would add 6 MB, a 25 MB page: it keeps its final face)


def _running_faces(view) -> list[RunningFace]:
    """Add, for each cube without stages, one copy of its result face per partial sum over k
    (after 1, 2, ... k-blocks) as its own actor, so the page's slider shows C growing as the window
    does. A grid face is copied with its cell values; a textured (large) face with its own texture
    (a photograph product is coloured on the min-max of what it shows), unless those textures would
    add more than ``RUNNING_TEXTURE_BYTES``: then it keeps its final values. Returns, per cube, the
    names of its final face and of its partial faces in order."""
    out = []
    for c, cv in enumerate(view.views):
        fv = cv.faces.get("result")
        if fv is None or cv.cube.stages or cv.cube.k_steps < 2:
            continue
        if fv.textured:
            w, h, _ = fv.image.GetDimensions()
            if 3 * w * h * (cv.cube.k_steps - 1) > RUNNING_TEXTURE_BYTES:
                continue
        cube, names = cv.cube, []
        for b in range(1, cube.k_steps):
            values = cube.face_values("result", upto_k=int(cube.blocks.edges_k[b]))
            fv.set_values(values)
            name = f"c{c}-result-partial-{b}"
            _copy_face(view.plotter, cv, fv, values, name)
            names.append(name)
        fv.set_values(cube.face_values("result"))
        out.append(RunningFace(c, fv.name, tuple(names)))
    return out  # left visible: trame-vtk skips hidden actors; the page hides them as it starts


def _copy_face(plotter, cv, fv, values, name: str) -> None:
    """A new actor drawing ``fv`` as it is now (its grid's cells, or its texture)."""
    import vtk

    source = fv.quad if fv.textured else fv.grid  # the face's own data (the mapper holds pyvista's copy)
    data = source.NewInstance()
    data.DeepCopy(source)
    mapper = fv.actor.mapper.NewInstance()
    mapper.ShallowCopy(fv.actor.mapper)
    mapper.SetInputData(data)
    actor = vtk.vtkActor()
    actor.ShallowCopy(fv.actor)
    actor.SetMapper(mapper)
    if fv.textured:
        image = vtk.vtkImageData()
        image.DeepCopy(fv.image)
        lut = vtk.vtkLookupTable()
        lut.DeepCopy(fv.lut)
        lut.SetRange(*cv.face_clim("result", fv.op, values))  # a photograph product: min-max of what it shows
        tex = vtk.vtkTexture()
        tex.SetInputData(image)
        tex.SetLookupTable(lut)
        tex.SetColorModeToMapScalars()
        tex.InterpolateOff()
        tex.RepeatOff()
        tex.EdgeClampOn()
        actor.SetTexture(tex)
    plotter.add_actor(actor, name=name, reset_camera=False, render=False, pickable=False)


def _payload_estimate(plotter) -> int:
    """Bytes the serialized scene will take in the page (its datasets' memory, base64-encoded)."""
    total = 0
    for actor in plotter.renderer.actors.values():
        mapper = actor.GetMapper() if hasattr(actor, "GetMapper") else None
        data = mapper.GetInputAsDataSet() if mapper is not None and hasattr(mapper, "GetInputAsDataSet") else None
        if data is None and mapper is not None and hasattr(mapper, "GetInput"):
            data = mapper.GetInput()
        if data is not None:
            total += data.GetActualMemorySize() * 1024
        texture = actor.GetTexture() if hasattr(actor, "GetTexture") else None
        if texture is not None and texture.GetInput() is not None:
            total += texture.GetInput().GetActualMemorySize() * 1024
    return total * 4 // 3


def check_interior(chain) -> None:
    """Refuse an interior the page cannot draw: a volume (more than ``CUBES_MAX`` blocks; vtk.js's
    loader fails on VTK's volume and the page would show nothing). Say how large it is and offer
    the block-aggregated version, drawn as cubes."""
    from matviz.graphics.interior import CUBES_MAX

    for cube in chain.cubes:
        blocks = int(np.prod(cube.blocks.shape))
        if cube.style.interior == "volume" or (cube.style.interior == "auto" and blocks > CUBES_MAX):
            shape = "x".join(str(s) for s in cube.blocks.shape)
            raise BudgetError(
                f"{cube.title or 'this scene'}: its interior is {shape} = {blocks:,} blocks, drawn as a volume, which "
                f"an HTML page cannot hold (it draws at most {CUBES_MAX:,} blocks, as cubes): export the "
                f"block-aggregated version, {param('budget', CUBES_MAX)} (exact block {cube.aggregate}s), or {param('interior', 'none')}"
            )


def check_payload(estimate: int, chain) -> None:
    """Refuse a page that a browser could not load, saying how large and what to do instead."""
    if estimate <= HTML_MAX_BYTES:
        return
    cells = sum(int(np.prod(c.blocks.shape)) for c in chain.cubes)
    budget = max(1, int(cells * HTML_MAX_BYTES / estimate / 2))
    raise BudgetError(
        f"this scene would make an HTML page of about {estimate / 2**20:,.0f} MB ({cells:,} interior blocks), more "
        f"than the {HTML_MAX_BYTES / 2**20:g} MB a browser tab loads: export the block-aggregated version, "
        f"{param('budget', budget)}, or smaller operands ({param('max_side')}), or write .png/.mp4"
    )


def bake_textures(plotter) -> None:
    """Give every textured face RGB texels: matviz colours a large face's value texture through
    its lookup table, which vtk.js ignores (a result of values 12..99 came out white)."""
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk, vtk_to_numpy

    for actor in plotter.renderer.actors.values():
        tex = actor.GetTexture() if hasattr(actor, "GetTexture") else None
        if tex is None or tex.GetLookupTable() is None:
            continue
        image = tex.GetInput()
        values = vtk_to_numpy(image.GetPointData().GetScalars())
        rgba = tex.GetLookupTable().MapScalars(numpy_to_vtk(np.ascontiguousarray(values, dtype=float)), 0, -1)
        baked = vtk.vtkImageData()
        baked.SetDimensions(image.GetDimensions())
        rgb = vtk_to_numpy(rgba).reshape(-1, 4)[:, :3].copy()
        array = numpy_to_vtk(rgb, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR)
        array.SetName("rgb")
        baked.GetPointData().SetScalars(array)
        tex.SetInputData(baked)
        tex.SetLookupTable(None)
        tex.SetColorModeToDirectScalars()


def _prop_order(data: bytes) -> list[int]:
    """Addresses of the renderer's view props in the order vtk.js adds them (read from the export)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        index = json.loads(z.read("index.json"))
    renderers = [d for d in index["scene"].get("dependencies", []) if "Renderer" in d.get("type", "")]
    if not renderers:
        return []
    deps = renderers[0].get("dependencies", [])
    return [int(d["id"], 16) for d in deps if not any(w in d.get("type", "") for w in ("Camera", "Light"))]


def _address(actor) -> int:
    text = actor.GetAddressAsString(actor.GetClassName())
    return int(text.split("0x")[-1], 16)


def _faces(view) -> list[str]:
    """One line per drawn face: name, shape and value range (the legends' facts)."""
    lines = []
    for cv in view.views:
        for fv in [*cv.faces.values(), *cv.stage_faces]:
            values = np.asarray(fv.op.values, dtype=float)
            finite = values[np.isfinite(values)]
            rng = f"{finite.min():.4g} .. {finite.max():.4g}" if finite.size else "no finite values"
            where = {"left": "left face", "top": "top face", "result": "back face"}.get(fv.key, "back face, after")
            shape = "x".join(str(s) for s in values.shape)
            lines.append(f"{where}: {fv.op.name} ({shape}), values {rng}")
    return list(dict.fromkeys(lines))


def vtksz(plotter) -> bytes:
    """The plotter's scene as vtk.js's offline-viewer zip (``index.json``: the scene and its arrays).

    This is what pyvista's ``export_html`` ends in (trame-vtk's serializer, the
    ``viewport.geometry.view.get.export`` call of its local view), called directly: ``export_html``
    first starts a trame server on a local port, and through trame-vtklocal tries to download VTK's
    wasm bundle from gitlab.kitware.com -- an export must neither listen nor fetch.
    """
    import warnings

    from trame_vtk.modules.vtk.serializers import (
        SynchronizationContext,
        extract_array_hash,
        initialize_serializers,
        reference_id,
        serialize,
    )

    initialize_serializers()
    context = SynchronizationContext()
    window = plotter.render_window
    camera = plotter.renderer.GetActiveCamera()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns once per 2D text actor, which vtk.js cannot draw
        scene = serialize(None, window, "1", context, 1)
    scene["extra"] = {
        "vtkRefId": reference_id(window),
        "centerOfRotation": camera.GetFocalPoint(),
        "camera": reference_id(camera),
    }
    hashes = {}
    for entry in extract_array_hash(scene):
        key = entry["hash"]
        hashes[key] = dict(**entry, content=context.get_cached_data_array(key, False))
    return _zip_index(json.dumps({"hashes": hashes, "scene": scene}))


def _zip_index(text: str) -> bytes:
    """``index.json`` in a zip, dated 1980-01-01: the same scene gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("index.json", date_time=(1980, 1, 1, 0, 0, 0)), text,
                   compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def reproducible(data: bytes) -> bytes:
    """The export ``data`` with the serializer's object ids (VTK objects' memory addresses, new in
    every process) renumbered 1, 2, … in order of first appearance and its modification times
    replaced by their ranks, so a page is reproducible.
    (``_prop_order`` reads the addresses: call this after it.)"""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        text = z.read("index.json").decode()
    scene = json.loads(text)["scene"]
    ids = set()

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("id", "parent", "vtkRefId", "camera") and isinstance(value, str):
                    ids.add(value)
                else:
                    collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(scene)
    ids = {i for i in ids if re.fullmatch(r"[0-9a-f]{16}", i)}
    if ids:
        order: dict[str, str] = {}
        pattern = re.compile(r"(?<![0-9a-f])(" + "|".join(map(re.escape, sorted(ids))) + r")(?![0-9a-f])")
        text = pattern.sub(lambda m: order.setdefault(m.group(1), f"{len(order) + 1:016x}"), text)
    # VTK's modification times count every change the process ever made: keep only their order
    rank = {t: i + 1 for i, t in enumerate(sorted({int(t) for t in re.findall(r'"mtime": (\d+)', text)}))}
    text = re.sub(r'"mtime": (\d+)', lambda m: f'"mtime": {rank[int(m.group(1))]}', text)
    return _zip_index(text)


def scene_html(scene, size: tuple[int, int] = (1280, 720)) -> str:
    """The page for ``scene`` (a Cube or Chain) as a string; see the module docstring."""
    require_extras()
    from matviz.graphics.offscreen import make_plotter
    from matviz.graphics.sceneview import SceneView
    from matviz.scene import as_chain

    plotter = make_plotter(size)
    try:
        check_interior(as_chain(scene))
        view = SceneView(plotter, scene)
        view.apply(_finished(view.chain))
        for item in view.pen.legends.values():  # vtk.js stacks every scalar bar in one place: the page lists them
            if item.bar is not None:
                item.bar.SetVisibility(False)
        layers = _layers(view)
        running = _running_faces(view)
        bake_textures(plotter)
        check_payload(_payload_estimate(plotter), view.chain)
        outlines = {cv.highlight.name for cv in view.views} | {view.TOKEN_ACTOR}
        highlight = [n for n in plotter.renderer.actors if n in outlines]
        data = vtksz(plotter)
        position = {address: i for i, address in enumerate(_prop_order(data))}
        data = reproducible(data)
        actors = plotter.renderer.actors

        def index(name: str) -> int:
            try:
                return position[_address(actors[name])]
            except KeyError:  # the serializer skipped an actor the panel drives: never ship a page that lies
                raise RuntimeError(f"the web export left out {name}; the page's controls would be wrong") from None

        model = {
            "count": len(position),
            "layers": [{"label": layer.label, "props": [index(n) for n in layer.names]} for layer in layers],
            "highlight": [index(n) for n in highlight if _address(actors[n]) in position],
            "faces": [
                {
                    "final": index(r.final),
                    "partial": [index(n) for n in r.partial],
                    "layers": [i for i, layer in enumerate(layers) if r.cube in layer.cubes],
                }
                for r in running
            ],
        }
        faces = _faces(view)
        title = view.chain.title or "matviz scene"
        notes = list(view.chain.notes)
    finally:
        plotter.close()
    from trame_vtk.tools.vtksz2html import write_html

    buffer = io.StringIO()
    write_html(data, buffer)
    return decorate(buffer.getvalue(), title, model, faces, notes)


def decorate(page: str, title: str, model: dict, faces: list[str], notes: list[str]) -> str:
    """vtk.js's viewer page with the favicons stripped, a CSP that forbids any fetch, and the panel."""
    page = FAVICON.sub("data:,", page)
    page = re.sub(r"<title>.*?</title>", f"<title>{_html.escape(title)} - matviz</title>", page, count=1, flags=re.S)
    head = f'<meta http-equiv="Content-Security-Policy" content="{CSP}" />\n'
    page = page.replace("<head>", "<head>\n" + head, 1)
    panel = PANEL.replace("__TITLE__", _html.escape(title))
    panel = panel.replace("__FACES__", "".join(f"<li>{_html.escape(f)}</li>" for f in faces))
    panel = panel.replace("__NOTES__", "".join(f"<li>{_html.escape(n)}</li>" for n in notes))
    script = SCRIPT.replace("__MODEL__", json.dumps(model))
    # vtk.js empties the first ".content" element (else <body>) and draws into it: give it its own
    stage = '<div class="content" style="position:absolute;top:0;left:0;right:0;bottom:0"></div>\n'
    page = re.sub(r"<body>", lambda m: m.group(0) + "\n" + stage, page, count=1)
    page = page.replace("</body>", panel + script + "</body>", 1)
    if "kitware.github.io/vtk-js/icon" in page:  # the template changed: never ship a page that phones home
        raise RuntimeError("vtk.js's viewer still links its favicons after stripping them")
    return page


PANEL = """<div id="matviz-panel" style="position:fixed;top:8px;left:8px;z-index:10;max-width:38em;
 font:13px/1.35 sans-serif;color:#222;background:rgba(255,255,255,0.85);padding:6px 10px;border-radius:4px">
 <div id="matviz-title" style="font-weight:bold">__TITLE__</div>
 <label id="matviz-k-row"><span id="matviz-status">sum over k</span><br>
 <input id="matviz-k" type="range" min="0" max="0" value="0" step="1" style="width:18em"></label>
 <div><label><input id="matviz-interior" type="checkbox" checked> interior (the products A[i,k]*B[k,j])</label>
 <label id="matviz-highlight-row"><input id="matviz-highlight" type="checkbox" checked> highlight</label></div>
 <details><summary>faces</summary><ul style="margin:2px 0;padding-left:1.2em">__FACES__</ul>
 <ul style="margin:2px 0;padding-left:1.2em">__NOTES__</ul>
 <div>drag: orbit; wheel: zoom; shift+drag: pan; keys: &larr; &rarr; step k, Home/End, i interior, h highlight</div></details>
 <div id="matviz-error" style="color:#b00"></div>
</div>
"""

SCRIPT = """<script>
(function () {
  const M = __MODEL__;
  const $ = (id) => document.getElementById(id);
  const slider = $("matviz-k"), interior = $("matviz-interior"), hl = $("matviz-highlight");
  slider.max = String(M.layers.length);
  slider.value = String(M.layers.length);
  if (!M.layers.length) { $("matviz-k-row").style.display = "none"; interior.parentNode.style.display = "none"; }
  if (!M.highlight.length) { $("matviz-highlight-row").style.display = "none"; }
  function props() {
    const rw = window.global && window.global.renderWindow;
    if (!rw) { return [null, [], null]; }
    // the viewer's own (empty) renderer comes first; the scene's is the one holding the props
    const r = rw.getRenderers().reduce((a, b) => (b.getViewProps().length > a.getViewProps().length ? b : a));
    return [rw, r.getViewProps(), r];
  }
  function apply() {
    const [rw, p] = props();
    if (!rw || p.length !== M.count) { return; }
    const k = Number(slider.value);
    M.layers.forEach((layer, i) => layer.props.forEach((j) => p[j].setVisibility(interior.checked && i < k)));
    M.highlight.forEach((j) => p[j].setVisibility(hl.checked));
    M.faces.forEach((f) => {  // the result face shows the sum so far, as in the window
      const done = f.layers.filter((i) => i < k).length;
      p[f.final].setVisibility(done === f.layers.length);
      f.partial.forEach((j, b) => p[j].setVisibility(done === b + 1));
    });
    $("matviz-status").textContent = k === 0 ? "sum over k: nothing summed yet" :
      M.layers[k - 1].label + (k === M.layers.length ? " (all)" : "");
    rw.render();
    window.matvizState = {k: k, interior: interior.checked, highlight: hl.checked};
  }
  function set(k) { slider.value = String(Math.max(0, Math.min(M.layers.length, k))); apply(); }
  document.addEventListener("keydown", (e) => {  // the window's keys: step k, interior, highlight
    const k = Number(slider.value);
    if (e.key === "ArrowRight") { set(k + 1); } else if (e.key === "ArrowLeft") { set(k - 1); }
    else if (e.key === "Home") { set(0); } else if (e.key === "End") { set(M.layers.length); }
    else if (e.key === "i") { interior.checked = !interior.checked; apply(); }
    else if (e.key === "h") { hl.checked = !hl.checked; apply(); }
    else { return; }
    e.preventDefault();
  });
  [slider, interior, hl].forEach((el) => el.addEventListener("input", apply));
  [interior, hl].forEach((el) => el.addEventListener("change", apply));
  let tries = 0;
  (function wait() {
    const [rw, p] = props();
    if (!rw || p.length < M.count) {
      if (++tries < 600) { setTimeout(wait, 50); } else { $("matviz-error").textContent = "the scene did not load"; }
      return;
    }
    if (p.length !== M.count) {
      $("matviz-error").textContent = "controls off: vtk.js built " + p.length + " props, expected " + M.count;
      window.matvizReady = "mismatch";
      return;
    }
    // matviz framed its camera for a frame with side bands; fit the scene to this page instead,
    // from the same direction
    props()[2].resetCamera();
    apply();
    window.matvizReady = true;
  })();
})();
</script>
"""
