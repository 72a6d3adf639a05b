"""Optimizers with PyTorch's update rules, and learning-rate schedulers (``optim.lr_scheduler``)."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from ..errors import missing_attribute

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "lr_scheduler"]


__getattr__ = missing_attribute("tinygrad_cnn.optim", "torch.optim")
