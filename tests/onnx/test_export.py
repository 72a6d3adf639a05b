"""ONNX export: ONNX Runtime gives tinygrad_cnn's outputs, in eval mode, for LeNet-5 and for
generated Sequential models over the exportable layers, at the export batch size and another."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from tinygrad_cnn.onnx import ExportError, export  # noqa: E402


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def same(model, path, shape):
    x = tc.randn(*shape)
    model.eval()
    np.testing.assert_allclose(run_onnx(path, x.numpy()), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_lenet5_exports_with_named_parameters_and_a_symbolic_batch(tmp_path):
    tc.manual_seed(0)
    model = nn.LeNet5().eval()
    path = export(model, tc.randn(4, 1, 28, 28), tmp_path / "lenet.onnx", input_names=["input"],
                  output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    graph = onnx.load(path).graph
    assert [n.op_type for n in graph.node] == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape",
                                               "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    assert {i.name for i in graph.initializer} >= {name for name, _ in model.named_parameters()}
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (4, 1, 9):
        same(model, path, (n, 1, 28, 28))


def _layer(draw, c: int, side: int):
    """One layer that fits (channels c, sides side), or None."""
    kind = draw(st.sampled_from(["conv", "convT", "pad", "maxpool", "avgpool", "bn", "act", "dropout"]))
    if kind == "convT":
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        d, p = draw(st.integers(1, 2)), draw(st.integers(0, 1))
        op = draw(st.integers(0, max(s, d) - 1))
        if (side - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            return None
        return nn.ConvTranspose2d(c, draw(st.integers(1, 3)), k, stride=s, padding=p, output_padding=op, dilation=d,
                                  bias=draw(st.booleans()))
    if kind == "pad":
        widths = tuple(draw(st.integers(0, min(2, side - 1))) for _ in range(4))
        return draw(st.sampled_from([nn.ZeroPad2d(widths), nn.ConstantPad2d(widths, 0.5), nn.ReflectionPad2d(widths),
                                     nn.ReplicationPad2d(widths)]))
    if kind == "conv":
        groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0]))
        k, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        p = draw(st.integers(0, k // 2))
        if side + 2 * p < d * (k - 1) + 1:
            return None
        return nn.Conv2d(c, groups * draw(st.integers(1, 3)), k, stride=draw(st.integers(1, 2)), padding=p,
                         dilation=d, groups=groups, bias=draw(st.booleans()))
    if kind in ("maxpool", "avgpool"):
        if side < 2:
            return None
        k = draw(st.integers(2, min(3, side)))
        s, p = draw(st.integers(1, k)), draw(st.integers(0, k // 2))
        if kind == "maxpool":
            return nn.MaxPool2d(k, s, p, ceil_mode=draw(st.booleans()))
        return nn.AvgPool2d(k, s, p, count_include_pad=draw(st.booleans()))
    if kind == "bn":
        bn = nn.BatchNorm2d(c)
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        bn.running_mean.numpy()[...] = rng.standard_normal(c)
        bn.running_var.numpy()[...] = 0.5 + rng.random(c)
        return bn
    if kind == "act":
        return draw(st.sampled_from([nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2)]))
    return nn.Dropout(0.5)


@st.composite
def models(draw):
    """(a small Sequential over the exportable layers, its input's shape): convs with stride,
    padding, dilation and groups, pooling (ceil_mode, count_include_pad), batch norm with running
    statistics, activations, dropout, then Flatten, Linear and maybe a softmax."""
    tc.manual_seed(draw(st.integers(0, 99)))
    shape = (2, draw(st.integers(1, 4)), draw(st.integers(5, 9)), draw(st.integers(5, 9)))
    layers, probe = [], tc.zeros(*shape)
    for _ in range(draw(st.integers(1, 4))):
        layer = _layer(draw, probe.shape[1], min(probe.shape[2:]))
        if layer is not None:
            layer.eval()
            layers.append(layer)
            probe = layer(probe)
    if draw(st.booleans()):  # global, or PyTorch's overlapping bins
        pool = nn.AdaptiveAvgPool2d(draw(st.sampled_from([1, (2, 3)])))
        layers.append(pool)
        probe = pool(probe)
    layers += [nn.Flatten(), nn.Linear(int(np.prod(probe.shape[1:])), 3)]
    head = draw(st.sampled_from(["none", "softmax", "log_softmax"]))
    if head != "none":
        layers.append(nn.Softmax(dim=1) if head == "softmax" else nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers), shape


@settings(deadline=None)
@given(models())
def test_generated_models_match_onnx_runtime(tmp_path_factory, case):
    model, shape = case
    model.eval()
    path = export(model, tc.randn(*shape), tmp_path_factory.mktemp("m") / "model.onnx",
                  dynamic_axes={"input": {0: "batch"}})
    same(model, path, shape)
    same(model, path, (5,) + shape[1:])  # the symbolic batch


def test_training_mode_warns_and_exports_eval_behaviour(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.9), nn.Flatten(), nn.Linear(8, 2))
    model.train()
    with pytest.warns(UserWarning, match="training mode; exporting its eval-mode behaviour"):
        path = export(model, tc.randn(2, 1, 4, 4), tmp_path / "m.onnx")
    assert model.training  # left as it was
    same(model, path, (2, 1, 4, 4))


def test_an_op_without_conversion_names_itself_and_the_line(tmp_path):
    class Clip(nn.Module):
        def forward(self, x):
            return x.clamp(0.0, 1.0)

    with pytest.raises(ExportError, match=r"op 'clip' \(created at [^)]*test_export.py:\d+\) cannot be exported"):
        export(Clip().eval(), tc.randn(2, 3), tmp_path / "m.onnx")


def _bench_models():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_models.py"
    spec = importlib.util.spec_from_file_location("bench_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["vgg_bn", "resnet"])
def test_the_benchmarks_vgg_and_resnet_export(tmp_path, name):
    tc.manual_seed(0)
    model = getattr(_bench_models(), name)(tc)
    model.eval()
    path = export(model, tc.randn(2, 3, 32, 32), tmp_path / f"{name}.onnx", dynamic_axes={"input": {0: "batch"}})
    same(model, path, (2, 3, 32, 32))
    same(model, path, (3, 3, 32, 32))


def test_export_command_writes_a_checkpoints_model(tmp_path):
    import subprocess
    import sys

    from tests.test_cli_polish import checkpoint

    ckpt = checkpoint(tmp_path / "run")
    out = tmp_path / "lenet.onnx"
    r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "export", str(ckpt), "--onnx", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and str(out) in r.stdout, r.stdout + r.stderr
    model, _ = __import__("tinygrad_cnn.training", fromlist=["load_model"]).load_model(ckpt)
    same(model, out, (3, 1, 28, 28))
    r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "export", str(ckpt), "--onnx", str(tmp_path / "x.txt")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--onnx must end in .onnx" in r.stderr and len(r.stderr.splitlines()) == 1


def test_a_trained_checkpoint_classifies_mnist_in_onnx_runtime_as_evaluate_does(tmp_path):
    """The CLI's path end to end: train (briefly), evaluate, export, run the test set in ONNX Runtime."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    data = os.environ.get("TINYGRAD_CNN_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    cli("train", "--epochs", "1", "--limit-train", "6000", "--no-progress", "--out", str(tmp_path / "run"))
    ckpt = tmp_path / "run" / "model.npz"
    ours = float(re.search(r"accuracy ([\d.]+)%", cli("evaluate", str(ckpt))).group(1))
    cli("export", str(ckpt), "--onnx", str(tmp_path / "lenet.onnx"))
    from tinygrad_cnn import training as T
    from tinygrad_cnn.data import DataLoader

    _, cfg = T.load_model(ckpt)
    cfg.limit_test = None
    session = ort.InferenceSession(str(tmp_path / "lenet.onnx"), providers=["CPUExecutionProvider"])
    correct = n = 0
    for x, y in DataLoader(T.load_data(cfg, False), 1000):
        correct += int((session.run(None, {"image": x.numpy()})[0].argmax(1) == y.numpy()).sum())
        n += len(y.numpy())
    assert n == 10000 and abs(100 * correct / n - ours) <= 0.01 + 1e-9  # the printed two decimals


@pytest.mark.parametrize("name", ["lenet", "vgg_bn", "resnet"])
def test_torch_onnx_export_of_the_same_weights_gives_the_same_outputs(tmp_path, name):
    torch = pytest.importorskip("torch")
    import warnings

    bench = _bench_models()
    tc.manual_seed(0)
    ours = getattr(bench, name)(tc).eval()
    theirs = getattr(bench, name)(torch).eval()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    shape = (2, 1, 28, 28) if name == "lenet" else (2, 3, 32, 32)
    x = tc.randn(*shape)
    export(ours, x, tmp_path / "ours.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(theirs, torch.from_numpy(x.numpy()), str(tmp_path / "torch.onnx"), dynamo=False,
                          input_names=["input"])
    a, b = run_onnx(tmp_path / "ours.onnx", x.numpy()), run_onnx(tmp_path / "torch.onnx", x.numpy())
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a, ours(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda x: tc.cat([x, x * 2.0], 1).permute(0, 2, 1),
    lambda x: (x @ x.permute(0, 2, 1)).softmax(-1),
    lambda x: nn.functional.leaky_relu(x - 0.5, 0.1).exp().sum(dim=2, keepdim=True),
    lambda x: x[:, 1:, ::-1] / (x[:, :1].abs() + 1.0),
    lambda x: nn.functional.pad(x, (1, 2), value=0.25).sigmoid().log_softmax(dim=1),
], ids=["cat-permute", "matmul-softmax", "leaky-exp-sum", "slices-div", "pad-logsoftmax"])
def test_functions_of_tensors_export_too(tmp_path, fn):
    x = tc.randn(2, 3, 4)
    path = export(fn, x, tmp_path / "f.onnx", dynamic_axes={"input": {0: "batch"}})
    for n in (2, 5):
        xi = tc.randn(n, 3, 4)
        np.testing.assert_allclose(run_onnx(path, xi.numpy()), fn(xi).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_same_padding_exports_with_pytorchs_asymmetric_pads(tmp_path, k):
    model = nn.Sequential(nn.Conv2d(2, 3, k, padding="same", dilation=1), nn.Conv2d(3, 2, 3, padding="same",
                                                                                      dilation=2)).eval()
    path = export(model, tc.randn(1, 2, 6, 7), tmp_path / "same.onnx", dynamic_axes={"input": {0: "batch"}})
    same(model, path, (3, 2, 6, 7))
