"""The ``tinygrad-cnn`` command: train, evaluate, graph, gradcheck."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .data import DataLoader
from .data.idx import DatasetError
from .nn.module import StateDictError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tinygrad-cnn", description="Train and inspect LeNet-5 with tinygrad_cnn.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train LeNet-5 on MNIST (or Fashion-MNIST)")
    t.add_argument("--epochs", type=int, default=None, help="number of epochs (default 3; with --resume, the "
                                                            "run's own)")
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", default="adam", help="adam, adamw, sgd or rmsprop")
    t.add_argument("--lr", type=float, default=2e-3, help="initial learning rate (default 2e-3)")
    t.add_argument("--schedule", default="cosine", help="cosine (annealed to 0 over the run, per batch), step "
                                                        "(x0.1 at half the epochs) or none")
    t.add_argument("--pool", default="max", help="max or avg")
    t.add_argument("--dataset", default="mnist", help="mnist or fashion-mnist")
    t.add_argument("--data-dir", default=None, help="folder holding mnist/ and fashion-mnist/ "
                                                    "(default $TINYGRAD_CNN_DATA, else ~/.cache/tinygrad_cnn)")
    t.add_argument("--out", default=None, help="folder for model.npz, metrics.json, curves.png and graph.svg "
                                               "(default runs/lenet5; with --resume, the run's own)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run from its model.npz")
    t.add_argument("--limit-train", type=int, default=None, help="train on the first N images only")
    t.add_argument("--limit-test", type=int, default=None, help="test on the first N images only")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--dataset", default=None, help="defaults to the dataset the model was trained on")

    g = sub.add_parser("graph", help="draw LeNet-5's training graph (forward through the loss)")
    g.add_argument("--out", default="lenet.svg", help="output file; .svg, .png or .pdf (.dot needs no Graphviz)")
    g.add_argument("--batch-size", type=int, default=2)

    c = sub.add_parser("gradcheck", help="run the op registry's gradient checks and print a table")
    c.add_argument("--op", action="append", default=None, help="only this op (repeatable)")
    c.add_argument("--examples", type=int, default=5, help="hypothesis examples per op")
    return p


# ------------------------------------------------------------------------------------------ train
def _train(args: argparse.Namespace) -> int:
    from . import training as T
    from .factories import manual_seed
    from .utils import tune_malloc

    tune_malloc()
    start_epoch, metrics = 1, []
    if args.resume:
        state, cfg = T.load_checkpoint(args.resume)
        cfg.epochs = args.epochs if args.epochs is not None else cfg.epochs
        cfg.out = args.out or cfg.out
        if args.data_dir:
            cfg.data_dir = args.data_dir
    else:
        epochs = args.epochs if args.epochs is not None else 3
        cfg = T.TrainConfig(epochs=epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                            schedule=args.schedule, pool=args.pool, dataset=args.dataset, data_dir=args.data_dir,
                            out=args.out or "runs/lenet5", seed=args.seed, limit_train=args.limit_train,
                            limit_test=args.limit_test)
    cfg.validate()
    manual_seed(cfg.seed)
    train_ds, test_ds = T.load_data(cfg, True), T.load_data(cfg, False)
    steps_per_epoch = len(T.epoch_loader(train_ds, cfg, 1))
    model, opt, sched = T.build(cfg, steps_per_epoch)
    if args.resume:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and "scheduler" in state:
            schedule_length = getattr(sched, "T_max", None)
            sched.load_state_dict(state["scheduler"])
            if schedule_length is not None:  # a resumed run may have been given more epochs
                sched.T_max = schedule_length
        T.set_rng_state(json.loads(str(state["rng"])))
        start_epoch = int(state["epoch"]) + 1
        metrics = json.loads(str(state["metrics"]))
        print(f"resuming {args.resume} at epoch {start_epoch} of {cfg.epochs}")
    test_loader = DataLoader(test_ds, 1000)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"training LeNet-5 on {cfg.dataset} ({len(train_ds)} train / {len(test_ds)} test images), "
          f"{cfg.optimizer} lr {cfg.lr}, batch {cfg.batch_size}, {cfg.epochs} epochs -> {out}")
    for epoch in range(start_epoch, cfg.epochs + 1):
        loader = T.epoch_loader(train_ds, cfg, epoch)
        bar = None
        if not args.no_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(train_ds), desc=f"epoch {epoch}/{cfg.epochs}", unit="img", leave=False,
                       dynamic_ncols=True)

        def on_step(b: int, loss: float, acc: float, secs: float, bar: Any = bar) -> None:
            if bar is not None:
                bar.update(b)
                bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)

        lr = opt.param_groups[0]["lr"]  # at the start of the epoch
        t0 = time.perf_counter()
        train_loss, train_acc = T.train_epoch(model, opt, loader, on_step,
                                              sched if cfg.schedule == "cosine" else None)
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        test_loss, test_acc = T.evaluate(model, test_loader)
        if sched is not None and cfg.schedule != "cosine":
            sched.step()
        metrics.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                        "test_loss": test_loss, "test_accuracy": test_acc, "seconds": round(seconds, 3), "lr": lr,
                        "images_per_second": round(len(train_ds) / seconds, 1)})
        print(f"epoch {epoch}/{cfg.epochs}: train loss {train_loss:.4f} acc {train_acc:.2%} | test loss "
              f"{test_loss:.4f} acc {test_acc:.2%} | {seconds:.1f}s ({len(train_ds) / seconds:,.0f} img/s)")
        T.save_checkpoint(out / "model.npz", model, opt, sched, cfg, epoch, metrics)
        (out / "metrics.json").write_text(json.dumps({"config": asdict(cfg), "epochs": metrics}, indent=2))
    _write_plot(out / "curves.png", metrics)
    _write_graph(out / "graph.svg", model, cfg)
    print(f"wrote {out / 'model.npz'}, {out / 'metrics.json'}")
    return 0


def _write_plot(path: Path, metrics: list) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipped curves.png (pip install tinygrad_cnn[plot])")
        return
    epochs = [m["epoch"] for m in metrics]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(epochs, [m["train_loss"] for m in metrics], "o-", label="train")
    a1.plot(epochs, [m["test_loss"] for m in metrics], "s-", label="test")
    a1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    a2.plot(epochs, [m["train_accuracy"] for m in metrics], "o-", label="train")
    a2.plot(epochs, [m["test_accuracy"] for m in metrics], "s-", label="test")
    a2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    from matplotlib.ticker import MaxNLocator

    for a in (a1, a2):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.legend()
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")


def _lenet_graph(model: Any, batch: int) -> Any:
    """LeNet-5's training graph on random images: forward through the cross-entropy loss."""
    import numpy as np

    from .nn import functional as F
    from .tensor import Tensor

    x = Tensor(np.random.default_rng(0).standard_normal((batch, 1, 28, 28)).astype(np.float32), name="images")
    y = Tensor(np.arange(batch) % 10, name="labels")
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    return loss


def _write_graph(path: Path, model: Any, cfg: Any) -> None:
    from . import viz

    loss = _lenet_graph(model, 2)
    if not viz.dot_available():
        path.with_suffix(".dot").write_text(viz.to_dot(loss, params=model, clusters=True))
        print(f"note: the Graphviz 'dot' program is missing; wrote {path.with_suffix('.dot')} instead of {path.name}")
        return
    viz.draw_graph(loss, params=model, clusters=True).render(outfile=str(path), cleanup=True)
    print(f"wrote {path}")


# ------------------------------------------------------------------------------------------ others
def _evaluate(args: argparse.Namespace) -> int:
    from . import training as T
    from .utils import tune_malloc

    tune_malloc()
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
    from . import viz
    from .nn import LeNet5

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    model = LeNet5()
    loss = _lenet_graph(model, args.batch_size)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lstrip(".").lower() or "svg"
    if fmt == "dot":
        out.write_text(viz.to_dot(loss, params=model, clusters=True))
    else:
        if not viz.dot_available():
            raise RuntimeError("the Graphviz 'dot' program is needed to render; install it (apt-get install "
                               "graphviz) or ask for a .dot file")
        viz.draw_graph(loss, params=model, clusters=True).render(outfile=str(out), format=fmt, cleanup=True)
    print(f"wrote {out}")
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    try:
        from hypothesis import HealthCheck, given, settings
    except ImportError:
        raise RuntimeError("the gradcheck command needs hypothesis: pip install tinygrad_cnn[testing]") from None
    from .testing import OPS, gradcheck, gradgradcheck

    names = args.op or sorted(OPS)
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise ValueError(f"unknown op {unknown[0]!r}; registered ops: {', '.join(sorted(OPS))}")
    rows, failed = [], 0
    for name in names:
        info = OPS[name]
        stats = {"n": 0, "error": ""}
        t0 = time.perf_counter()

        def make_check(info: Any, stats: dict) -> Any:
            @settings(max_examples=args.examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(info.strategy())
            def check(sample: Any) -> None:
                stats["n"] += 1
                fn, inputs = info.bind(sample)
                gradcheck(fn, inputs)
                gradgradcheck(fn, inputs)

            return check

        try:
            make_check(info, stats)()
            status = "ok"
        except Exception as e:  # a failed check: report it in the table, keep going
            status = "FAIL"
            stats["error"] = str(e).splitlines()[0][:100]
            failed += 1
        rows.append((name, str(stats["n"]), status, f"{time.perf_counter() - t0:.2f}", stats["error"]))
    widths = [max(len(r[i]) for r in rows + [("op", "examples", "result", "seconds", "")]) for i in range(4)]
    print(f"{'op':<{widths[0]}}  {'examples':>{widths[1]}}  {'result':<{widths[2]}}  {'seconds':>{widths[3]}}")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}".rstrip())
    print(f"{len(rows) - failed} ok, {failed} failed (gradcheck and gradgradcheck, float64)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input)."""
    args = _parser().parse_args(argv)
    commands = {"train": _train, "evaluate": _evaluate, "graph": _graph, "gradcheck": _gradcheck}
    try:
        return commands[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError, DatasetError, StateDictError, OSError) as e:
        print(f"tinygrad-cnn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
