"""The error the gradient checks raise, below both the Tensor and the numpy checkers."""


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree (or the check cannot run)."""
