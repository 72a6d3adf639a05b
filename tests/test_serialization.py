"""save/load: nested state, bit-exact round trips, atomic writes."""
import os

import numpy as np
import pytest

import tinygrad_cnn as tc


def test_round_trip_nested_and_bit_exact(tmp_path):
    rng = np.random.default_rng(0)
    state = {"model": {"w": rng.standard_normal((3, 3)).astype(np.float32), "n": np.int64(7)},
             "groups": [{"lr": 0.1, "betas": (0.9, 0.99)}], "empty": {}, "none": None, "text": "hello",
             "t": tc.Tensor([1.0, 2.0])}
    path = tmp_path / "ckpt.npz"
    tc.save(state, path)
    back = tc.load(path)
    assert back["model"]["w"].dtype == np.float32 and np.array_equal(back["model"]["w"], state["model"]["w"])
    assert back["groups"][0]["lr"] == 0.1 and tuple(back["groups"][0]["betas"]) == (0.9, 0.99)
    assert back["empty"] == {} and back["none"] is None and str(back["text"]) == "hello"
    assert back["t"].tolist() == [1.0, 2.0]


def test_saved_file_has_the_usual_permissions(tmp_path):
    tc.save({"w": np.ones(1)}, tmp_path / "m.npz")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~mask


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tc.save({"w": np.ones(3)}, path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        tc.save({"w": np.zeros(3)}, path)
    assert tc.load(path)["w"].tolist() == [1.0, 1.0, 1.0]  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # and no temporary file is left behind


def test_bad_objects():
    with pytest.raises(TypeError, match="save: obj must be a dict"):
        tc.save([1, 2], "x.npz")
    with pytest.raises(TypeError, match="cannot store a object"):
        tc.save({"x": object()}, "x.npz")
