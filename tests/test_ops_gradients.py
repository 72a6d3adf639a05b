"""Every registered op, checked against central finite differences to first and second order.

The registry drives this file: registering an op (and its strategy in testing/op_samples.py) is
what gets it tested; an op registered without a strategy fails here.
"""
import pytest
from hypothesis import given, settings

from tinygrad_cnn.ops.registry import REGISTRY
from tinygrad_cnn.testing import OPS, gradcheck, gradgradcheck
from tinygrad_cnn.testing.op_samples import SAMPLES

# ops whose gradient checks cost many passes per example: fewer examples keep CI quick
HEAVY = {"conv2d", "conv_transpose2d", "conv2d_weight", "max_pool2d", "avg_pool2d", "window_sum", "window_fold"}


def test_every_registered_op_has_a_strategy():
    missing = sorted(set(REGISTRY) - set(SAMPLES))
    assert not missing, f"ops registered without a strategy in testing/op_samples.py: {missing}"
    assert set(OPS) == set(REGISTRY)


def _examples(name: str) -> int:
    n = settings().max_examples
    return max(3, n // 3) if name in HEAVY else n


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_gradcheck(name):
    info = OPS[name]

    @settings(max_examples=_examples(name))
    @given(info.strategy())
    def check(sample):
        fn, inputs = info.bind(sample)
        assert gradcheck(fn, inputs)

    check()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_gradgradcheck(name):
    info = OPS[name]

    @settings(max_examples=max(2, _examples(name) // 2))
    @given(info.strategy())
    def check(sample):
        fn, inputs = info.bind(sample)
        assert gradgradcheck(fn, inputs)

    check()


# the ops whose kernels have compiled twins (kernels/fast/), checked again with every twin taking
# every size: the tests above run the numpy kernels on their small arrays
TWINNED = ["avg_pool2d", "batch_norm", "conv2d", "conv2d_weight", "conv_transpose2d", "relu", "window_fold",
           "window_sum"]


@pytest.mark.parametrize("name", TWINNED)
def test_gradcheck_and_gradgradcheck_with_the_compiled_twins(name):
    pytest.importorskip("numba", reason="the compiled path needs numba (the 'fast' extra)")
    from tinygrad_cnn.ops.kernels.select import use_kernels
    info = OPS[name]

    @settings(max_examples=max(2, _examples(name) // 2))
    @given(info.strategy())
    def check(sample):
        with use_kernels("numba", min_size=0):
            fn, inputs = info.bind(sample)
            assert gradcheck(fn, inputs)
            assert gradgradcheck(fn, inputs)

    check()
