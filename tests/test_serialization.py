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
    with pytest.raises(TypeError, match=r"obj\['x'\] is a object, which save\(\) cannot store"):
        tc.save({"x": object()}, "x.npz")


# ---- every damaged or foreign file is one LoadError line naming the file and the problem

def _good(tmp_path):
    path = tmp_path / "good.npz"
    tc.save({"model": {"w": np.arange(2000, dtype=np.float32)}, "epoch": 3}, path)
    return path


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d, good: d / "missing.npz", "does not exist"),
    (lambda d, good: d, "is a directory"),
    (lambda d, good: _write(d / "empty.npz", b""), "is empty"),
    (lambda d, good: _write(d / "notes.npz", b"just some text\n"), "not an .npz archive"),
    (lambda d, good: _write(d / "half.npz", good.read_bytes()[: len(good.read_bytes()) // 2]), "truncated or damaged"),
    (lambda d, good: _write(d / "short.npz", good.read_bytes()[:-30]), "truncated or damaged"),
])
def test_load_errors_say_what_is_wrong(tmp_path, make, message):
    path = make(tmp_path, _good(tmp_path))
    with pytest.raises(tc.serialization.LoadError, match=message) as e:
        tc.load(path)
    assert "\n" not in str(e.value) and (str(path) in str(e.value))


def test_flipped_bytes_are_caught(tmp_path):
    good = _good(tmp_path).read_bytes()
    caught = 0
    for i in range(0, len(good), 97):
        bad = bytearray(good)
        bad[i] ^= 0xFF
        path = _write(tmp_path / "flip.npz", bytes(bad))
        try:
            back = tc.load(path)
        except tc.serialization.LoadError:
            caught += 1
            continue
        # a flip the archive cannot notice (e.g. in a name) still gives arrays, never an other error
        assert isinstance(back, dict)
    assert caught > 0


def test_npy_file_is_named_as_such(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(tc.serialization.LoadError, match="is a .npy file"):
        tc.load(tmp_path / "a.npy")


def test_pickled_and_pytorch_files_are_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(tc.serialization.LoadError, match="pickled Python objects"):
        tc.load(tmp_path / "obj.npz")
    import zipfile
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:  # the layout of torch.save's zip files
        z.writestr("model/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("model/version", b"3\n")
    with pytest.raises(tc.serialization.LoadError, match="PyTorch checkpoint"):
        tc.load(tmp_path / "model.pt")


def test_deflate_bomb_is_refused_before_allocating(tmp_path):
    import zipfile
    header = (b"\x93NUMPY\x01\x00v\x00"  # version 1.0, a 118-byte header
              + b"{'descr': '<f8', 'fortran_order': False, 'shape': (134217728,), }".ljust(117) + b"\n")
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("w.npy", "w", force_zip64=True) as f:
            f.write(header)
            zeros = bytes(1 << 20)
            for _ in range(1024):  # 1 GiB of zeros that deflate to about 1 MB
                f.write(zeros)
    assert (tmp_path / "bomb.npz").stat().st_size < 2 << 20
    with pytest.raises(tc.serialization.LoadError, match="too large for its declared content"):
        tc.load(tmp_path / "bomb.npz")


def test_huge_or_lying_headers(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:
        z.writestr("w.npy", b"\x93NUMPY\x01\x00\xff\xff" + b" " * 65535)
    with pytest.raises(tc.serialization.LoadError):
        tc.load(tmp_path / "huge.npz")
    with zipfile.ZipFile(tmp_path / "lies.npz", "w") as z:  # declares 8 MB of data, holds 8 bytes
        hdr = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,), }".ljust(117) + b"\n"
        z.writestr("w.npy", b"\x93NUMPY\x01\x00v\x00" + hdr + bytes(8))
    with pytest.raises(tc.serialization.LoadError, match="declares 8000000 bytes"):
        tc.load(tmp_path / "lies.npz")


def test_interrupted_saves_leave_temporaries_that_sweep_removes(tmp_path):
    stale = tmp_path / ".tmp-abc123.npz"
    stale.write_bytes(b"partial")
    os.utime(stale, (1, 1))
    keep = tmp_path / "model.npz"
    keep.write_bytes(b"x")
    assert tc.serialization.sweep_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
