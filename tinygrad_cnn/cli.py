"""The ``tinygrad-cnn`` command: train, evaluate, graph, gradcheck, check."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from .data import DataLoader
from .serialization import LoadError, StateDictError
from .training import NonFiniteLossError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="tinygrad-cnn", description="Train and inspect LeNet-5 with tinygrad_cnn.")
    p.add_argument("--version", action="version", version=f"tinygrad-cnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for add in (_add_train, _add_evaluate, _add_graph, _add_gradcheck, _add_check, _add_export):
        add(sub)
    return p


def _add_train(sub: Any) -> None:
    t = sub.add_parser("train", help="train LeNet-5 on MNIST (or Fashion-MNIST)")
    # the run's options default to None here, so that --resume can tell a given option from a default
    t.add_argument("--epochs", type=int, default=None, help="number of epochs (default 3; with --resume, the "
                                                            "run's own)")
    t.add_argument("--batch-size", type=int, default=None, help="images per step (default 64)")
    t.add_argument("--optimizer", default=None, metavar="{adam,adamw,sgd,rmsprop}", help="(default adam)")
    t.add_argument("--lr", type=float, default=None, help="initial learning rate (default 2e-3)")
    t.add_argument("--schedule", default=None, metavar="{cosine,step,none}",
                   help="cosine: annealed to 0 over the run, per batch (the default); step: x0.1 at half the epochs")
    t.add_argument("--pool", default=None, metavar="{max,avg}", help="(default max)")
    t.add_argument("--dataset", default=None, metavar="{mnist,fashion-mnist}", help="(default mnist)")
    t.add_argument("--data-dir", default=None, help="folder holding mnist/ and fashion-mnist/ "
                                                    "(default $TINYGRAD_CNN_DATA, else ~/.cache/tinygrad_cnn)")
    t.add_argument("--out", default=None, help="folder for model.npz, metrics.json, curves.png and graph.svg "
                                               "(default runs/lenet5; with --resume, the run's own)")
    t.add_argument("--seed", type=int, default=None, help="(default 0)")
    t.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run from its model.npz; "
                                                                       "only --epochs, --out and --data-dir may change")
    t.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    t.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_evaluate(sub: Any) -> None:
    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--dataset", default=None, help="defaults to the dataset the model was trained on")


def _add_graph(sub: Any) -> None:
    g = sub.add_parser("graph", help="draw LeNet-5's training graph (forward through the loss), its backward "
                                     "graph, or a page that steps through backward")
    g.add_argument("--out", default=None, help="output file; .svg, .png or .pdf (.dot needs no Graphviz); "
                                               "default lenet.svg")
    g.add_argument("--backward", action="store_true", help="draw the backward closures instead of the forward ops")
    g.add_argument("--backward-steps", default=None, metavar="HTML",
                   help="write a page that steps through LeNet-5's backward, one engine step at a time")
    g.add_argument("--batch-size", type=int, default=2, help="images in the drawn step (default 2)")


def _add_export(sub: Any) -> None:
    x = sub.add_parser("export", help="write a checkpoint's LeNet-5 as an ONNX model (batch size symbolic)")
    x.add_argument("checkpoint")
    x.add_argument("--onnx", required=True, metavar="PATH", help="the .onnx file to write")


def _add_gradcheck(sub: Any) -> None:
    c = sub.add_parser("gradcheck", help="run the op registry's gradient checks and print a table")
    c.add_argument("--op", action="append", default=None, help="only this op (repeatable)")
    c.add_argument("--examples", type=int, default=5, help="hypothesis examples per op and check (default 5)")
    c.add_argument("--all", action="store_true",
                   help="also third order and JVPs (default: gradient and second order)")


def _add_check(sub: Any) -> None:
    k = sub.add_parser("check", help="check your own numpy layer against tinygrad_cnn (see check_layer)")
    k.add_argument("target", metavar="MODULE:FUNCTION", help="your forward (a FILE.py:NAME or module:NAME); "
                                                              "with --backward-only, your backward")
    k.add_argument("--like", required=True, help="conv2d, max_pool2d, avg_pool2d, pad, linear, relu, sigmoid, tanh, "
                                                 "softmax, mse_loss, binary_cross_entropy, cross_entropy, batch_norm")
    k.add_argument("--backward", default=None, metavar="FUNCTION", help="your backward (a name in the same module, "
                                                                        "or MODULE:FUNCTION)")
    k.add_argument("--backward-only", action="store_true", help="MODULE:FUNCTION is a backward; check it alone")
    k.add_argument("--backward-takes", default="inputs", help="inputs: backward(dout, x, w, b, **hparams); "
                                                              "cache: backward(dout, cache)")
    k.add_argument("--hparam", action="append", default=[], metavar="REF=YOURS",
                   help="the reference's hyper-parameter and your keyword: padding=pad (repeatable)")
    k.add_argument("--hparams-style", default="keywords", help="keywords, or dict: one dict argument after the arrays")
    k.add_argument("--domain", action="append", default=[], metavar="KEY=VALUES",
                   help="what your code supports: stride=1,2  padding=0..2  sides=28x28  square=true (repeatable)")
    k.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                   help="a fixed keyword (or dict entry) for your functions: mode=train (repeatable)")
    k.add_argument("--layout", default=None, help="image layout, such as NCHW (default), NHWC or CHWN")
    k.add_argument("--weight-layout", default=None, help="OIHW (default), HWIO, ...; OI or IO for linear")
    k.add_argument("--bias-layout", default="vector", help="vector (F,) or broadcast, e.g. (1, 1, 1, F) in NHWC")
    k.add_argument("--dtype", default="float64", help="float64 or float32")
    k.add_argument("--max-examples", type=int, default=100, help="configurations to try (default 100)")
    k.add_argument("--seed", type=int, default=None, help="draw other configurations (default: the same each run)")


# ------------------------------------------------------------------------------------------ train
_RUN_OPTIONS = ("batch_size", "optimizer", "lr", "schedule", "pool", "dataset", "seed", "limit_train", "limit_test")


def _train(args: argparse.Namespace) -> int:
    from . import training as T
    resume = None
    given = {k: getattr(args, k) for k in _RUN_OPTIONS if getattr(args, k) is not None}
    if args.resume:
        state, cfg = T.resume_config(args.resume, args.epochs, args.out, args.data_dir)
        for k, v in given.items():
            if v != getattr(cfg, k):
                raise ValueError(f"--{k.replace('_', '-')} {v} conflicts with the checkpoint's "
                                 f"{getattr(cfg, k)}: --resume continues a run as it was (only --epochs, --out "
                                 "and --data-dir may change); start a new run to change it")
        resume = (args.resume, state)
    else:
        cfg = T.TrainConfig(epochs=3 if args.epochs is None else args.epochs, data_dir=args.data_dir,
                            out=args.out or "runs/lenet5", **given)
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite loss is reported by the run itself
        T.run(cfg, resume, progress=not args.no_progress)
    return 0


# ------------------------------------------------------------------------------------------ others
def _evaluate(args: argparse.Namespace) -> int:
    from . import training as T
    model, cfg = T.load_model(args.checkpoint)
    if args.data_dir:
        cfg.data_dir = args.data_dir
    if args.dataset:
        cfg.dataset = args.dataset
    cfg.limit_test = None
    cfg.validate()
    test_ds = T.load_data(cfg, False)
    loss, acc = T.evaluate(model, DataLoader(test_ds, 1000))
    print(f"{args.checkpoint}: {cfg.dataset} test loss {loss:.4f}, accuracy {acc:.2%} ({len(test_ds)} images)")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from .plots import write_backward_steps, write_lenet_graph

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.out and Path(args.out).suffix.lower() not in (".svg", ".png", ".pdf", ".dot"):
        raise ValueError(f"--out must end in .svg, .png, .pdf or .dot, got {args.out}")
    if args.backward_steps and Path(args.backward_steps).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--backward-steps writes a web page: give a .html name, got {args.backward_steps}")
    if args.backward_steps:
        print(write_backward_steps(Path(args.backward_steps), args.batch_size))
    if args.out or not args.backward_steps:
        print(write_lenet_graph(Path(args.out or "lenet.svg"), args.batch_size, args.backward))
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise RuntimeError("the gradcheck command needs hypothesis: pip install tinygrad_cnn[testing]") from None
    from .testing import OPS
    from .testing.verify import CHECKS, markdown_table, verify_ops

    if args.examples < 1:
        raise ValueError(f"--examples must be at least 1, got {args.examples}")
    _hypothesis_home()
    names = args.op or sorted(OPS)
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise ValueError(f"unknown op {unknown[0]!r}; registered ops: {', '.join(sorted(OPS))}")
    checks = list(CHECKS) if args.all else ["gradient", "second order"]
    reports = verify_ops(names, args.examples, checks)
    print(markdown_table(reports, checks))
    failed = [r for r in reports if r.failure]
    for r in failed:
        print(f"FAIL {r.name}: {r.failure}")
    print(f"\n{len(reports) - len(failed)} ops ok, {len(failed)} failed; cells count the hypothesis examples "
          f"checked ({sum(r.seconds for r in reports):.1f} s)")
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    from . import training as T

    if Path(args.onnx).suffix.lower() != ".onnx":
        raise ValueError(f"--onnx must end in .onnx, got {args.onnx}")
    try:
        from .onnx import export
    except ImportError:
        raise RuntimeError("the export command needs onnx: pip install tinygrad_cnn[onnx]") from None
    model, _ = T.load_model(args.checkpoint)
    model.eval()
    from .tensor import Tensor
    import numpy as np

    export(model, Tensor(np.zeros((1, 1, 28, 28), np.float32)), args.onnx, input_names=["image"],
           output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {args.onnx}: input 'image' (batch, 1, 28, 28) float32, output 'logits' (batch, 10)")
    return 0


def _hypothesis_home() -> None:
    """Hypothesis keeps files (a cache of constants) in ./.hypothesis unless told otherwise: the
    commands keep them in the user's cache folder, so a run leaves nothing in the working directory."""
    import os

    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        from hypothesis.configuration import set_hypothesis_home_dir

        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        set_hypothesis_home_dir(cache / "tinygrad_cnn" / "hypothesis")


def _check(args: argparse.Namespace) -> int:
    try:
        from .testing.layercheck import check_layer
        from .testing.layercheck.command import load_function, parse_domain, parse_hparams
    except ImportError:
        raise RuntimeError("the check command needs hypothesis: pip install tinygrad_cnn[testing]") from None
    _hypothesis_home()
    first = load_function(args.target)
    module = args.target.rpartition(":")[0]
    second = load_function(args.backward, module) if args.backward else None
    forward, backward = (None, first) if args.backward_only else (first, second)
    report = check_layer(args.like, forward, backward, backward_takes=args.backward_takes,
                         hparams=parse_hparams(args.hparam), hparams_style=args.hparams_style,
                         domain=parse_domain(args.domain), layout=args.layout, weight_layout=args.weight_layout,
                         bias_layout=args.bias_layout, extra=parse_domain(args.extra), dtype=args.dtype,
                         max_examples=args.max_examples, seed=args.seed)
    print(report)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input)."""
    args = _parser().parse_args(argv)
    commands = {"train": _train, "evaluate": _evaluate, "graph": _graph, "gradcheck": _gradcheck, "check": _check,
                "export": _export}
    try:
        return commands[args.command](args)
    except NonFiniteLossError as e:  # the last good checkpoint stays as it was
        print(f"tinygrad-cnn {args.command}: error: {e}", file=sys.stderr)
        return 3
    except (ValueError, TypeError, RuntimeError, LoadError, StateDictError, OSError) as e:
        print(f"tinygrad-cnn {args.command}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"tinygrad-cnn {args.command}: error: out of memory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
