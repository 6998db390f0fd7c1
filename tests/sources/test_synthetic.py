"""matviz.sources.synthetic: bundled samples (offline) and fillers, against numpy oracles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.errors import MatvizError, SourceError
from matviz.sources import FILLERS, SAMPLES, filler, load, sample

shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))


# ---- samples: all offline ----------------------------------------------------------------

# Run in a fresh interpreter with every way of opening a connection disabled and scikit-image's
# download cache pointed at an empty directory: a sample that is not inside the installed wheel
# would have to be downloaded and fails. The control proves the guard really blocks the network.
_OFFLINE = textwrap.dedent(
    """
    import json, os, socket, sys
    def _blocked(*args, **kwargs):
        raise OSError("network disabled by the test")
    socket.socket.connect = _blocked
    socket.socket.connect_ex = _blocked
    socket.create_connection = _blocked
    socket.getaddrinfo = _blocked
    import urllib.request
    try:
        urllib.request.urlopen("http://203.0.113.1/", timeout=1)
        control = "connected"
    except OSError as exc:
        control = "blocked" if "network disabled" in str(exc) else repr(exc)
    from matviz.sources import SAMPLES, load
    out = {}
    for name in SAMPLES:
        op = load("sample:" + name)
        v = op.values
        out[name] = dict(ndim=v.ndim, shape=list(v.shape), lo=float(v.min()), hi=float(v.max()),
                         kind=op.kind, name=op.name, dtype=str(v.dtype))
    cache = os.environ["SKIMAGE_DATADIR"]
    files = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
    print(json.dumps(dict(control=control, samples=out, cache_files=files)))
    """
)


@pytest.fixture(scope="module")
def offline_samples(tmp_path_factory):
    cache = tmp_path_factory.mktemp("skimage-cache")
    env = dict(os.environ, SKIMAGE_DATADIR=str(cache))
    proc = subprocess.run([sys.executable, "-c", _OFFLINE], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_offline_guard_blocks_the_network(offline_samples):
    assert offline_samples["control"] == "blocked"


def test_samples_load_without_network(offline_samples):
    got = offline_samples["samples"]
    assert sorted(got) == sorted(SAMPLES)
    assert offline_samples["cache_files"] == []  # nothing was fetched into the cache either
    for name, s in got.items():
        assert s["ndim"] == 2, name
        assert min(s["shape"]) >= 16, name
        assert 0.0 <= s["lo"] <= s["hi"] <= 1.0, name
        assert s["hi"] > s["lo"], name  # not blank
        assert s["kind"] == "image", name
        assert s["name"] == name
        assert s["dtype"] == "float64"


def test_camera_sample_matches_skimage():
    import skimage.data

    raw = skimage.data.camera()  # (512, 512) uint8
    np.testing.assert_array_equal(sample("camera"), raw)
    np.testing.assert_allclose(load("sample:camera").values, raw / 255.0, rtol=0, atol=1e-12)


def test_colour_sample_is_luminance():
    import skimage.data
    from skimage.color import rgb2gray

    rgb = skimage.data.astronaut()  # (512, 512, 3) uint8
    np.testing.assert_allclose(load("sample:astronaut").values, rgb2gray(rgb / 255.0), rtol=0, atol=1e-12)


def test_sample_resized():
    op = load("sample:coins", max_side=64)  # coins is 303x384
    assert op.shape == (50, 64)
    assert op.values.min() >= 0 and op.values.max() <= 1


def test_unknown_sample():
    for call in (lambda: load("sample:mandrill"), lambda: sample("mandrill")):
        with pytest.raises(SourceError) as err:
            call()
        msg = str(err.value)
        assert "mandrill" in msg and "camera" in msg  # names the input and what to choose


# ---- fillers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "uniform"])
def test_random_fillers_deterministic_per_seed(kind):
    a = load(f"{kind}:30x20:seed=7").values
    b = load(f"{kind}:30x20:seed=7").values
    c = load(f"{kind}:30x20:seed=8").values
    assert a.shape == (30, 20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(a, filler(kind, (30, 20), 7))
    np.testing.assert_array_equal(load(f"{kind}:30x20").values, filler(kind, (30, 20), 0))  # default seed 0


def test_uniform_range_and_moments():
    u = filler("uniform", (400, 500), 3)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.01)
    assert u.var() == pytest.approx(1 / 12, abs=0.005)
    assert load("uniform:4x4").kind == "nonneg"


def test_random_is_standard_normal():
    r = filler("random", (400, 500), 5)
    assert r.mean() == pytest.approx(0.0, abs=0.01)
    assert r.std() == pytest.approx(1.0, abs=0.01)
    assert np.mean(np.abs(r) < 1) == pytest.approx(0.6827, abs=0.01)
    assert load("random:8x8").kind == "signed"


def test_negative_seed_is_handled():
    """The parser accepts ``seed=-1`` (it strips a minus sign); the result must be a matrix or a MatvizError."""
    try:
        op = load("random:3x3:seed=-1")
    except MatvizError:
        return
    assert op.shape == (3, 3)


@given(shape=shapes)
@settings(max_examples=30, deadline=None)
def test_eye_tril_ones_match_numpy(shape):
    m, n = shape
    np.testing.assert_array_equal(load(f"eye:{m}x{n}").values, np.eye(m, n))
    np.testing.assert_array_equal(load(f"tril:{m}x{n}").values, np.tril(np.ones((m, n))))
    np.testing.assert_array_equal(load(f"ones:{m}x{n}").values, np.ones((m, n)))
    for kind in FILLERS:
        assert filler(kind, shape).dtype == np.float64


def test_square_shorthand():
    np.testing.assert_array_equal(load("eye:4").values, np.eye(4))
    np.testing.assert_array_equal(load("tril:3").values, np.tril(np.ones((3, 3))))


@given(m=st.integers(2, 60), n=st.integers(2, 60))
@settings(max_examples=30, deadline=None)
def test_gradient_corners_and_monotone(m, n):
    g = load(f"gradient:{m}x{n}").values
    assert g.shape == (m, n)
    assert g[0, 0] == 0.0
    assert g[-1, -1] == pytest.approx(1.0, abs=1e-12)
    assert g.min() >= 0.0 and g.max() <= 1.0 + 1e-12
    assert np.all(np.diff(g, axis=0) > 0) and np.all(np.diff(g, axis=1) > 0)  # strictly increasing down and across
    # linear: every interior value is the average of its neighbours across and down
    np.testing.assert_allclose(g[1:-1, :], (g[:-2, :] + g[2:, :]) / 2, atol=1e-12)
    np.testing.assert_allclose(g[:, 1:-1], (g[:, :-2] + g[:, 2:]) / 2, atol=1e-12)


def test_filler_names():
    assert set(FILLERS) >= {"random", "uniform", "eye", "tril", "gradient", "ones"}


# ---- filler errors ----------------------------------------------------------------------------


def test_unknown_filler():
    with pytest.raises(SourceError) as err:
        filler("zeros", (2, 2))
    assert "zeros" in str(err.value) and "random" in str(err.value)
    with pytest.raises(SourceError) as err:
        load("zeros:2x2")
    msg = str(err.value)
    assert "zeros" in msg and "random" in msg and "sample:" in msg


def test_malformed_shape():
    with pytest.raises(SourceError) as err:
        load("random:3xq")
    msg = str(err.value)
    assert "3xq" in msg and "e.g. 3x4" in msg


def test_bad_option():
    with pytest.raises(SourceError) as err:
        load("random:3x3:foo=1")
    msg = str(err.value)
    assert "foo=1" in msg and "seed=N" in msg


@pytest.mark.parametrize("spec", ["random:3x3:seed=", "random:3x3:seed=x", "random:3x3:seed=1.5"])
def test_bad_seed(spec):
    with pytest.raises(SourceError, match="seed=N"):
        load(spec)


@pytest.mark.parametrize("spec", ["eye:0x3", "ones:3x0", "tril:0"])
def test_zero_side(spec):
    with pytest.raises(SourceError) as err:
        load(spec)
    msg = str(err.value)
    assert spec.split(":")[1] in msg and ">= 1" in msg


def test_too_large_filler():
    with pytest.raises(SourceError) as err:
        load("random:100000x100000")  # 10^10 elements: refused before any allocation
    msg = str(err.value)
    assert "100000x100000" in msg and "smaller" in msg
