"""Neural-network building blocks: ``functional`` and PyTorch-style modules.

>>> import numpy as np
>>> from tinygrad_cnn import Tensor
>>> model = Sequential(Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(4 * 4 * 4, 10))
>>> model(Tensor(np.zeros((2, 1, 8, 8), np.float32))).shape
(2, 10)
"""
from . import functional, init, utils
from .containers import (AdaptiveAvgPool2d, Dropout2d, Identity, LogSoftmax, ModuleDict, ModuleList, Sequential,
                         Softmax)
from .layers import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Flatten, LeakyReLU, Linear,
                     MaxPool2d, ReLU, Sigmoid, Tanh)
from .lenet import LeNet5
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from ..errors import missing_attribute
from .module import Module, Parameter, StateDictError
from .padding import (CircularPad2d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                      ReplicationPad2d, ZeroPad2d)

__all__ = ["BatchNorm1d", "ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "CircularPad2d",
           "ReflectionPad1d",
           "ReplicationPad1d", "functional", "Module", "Parameter", "StateDictError", "Sequential", "Linear", "Conv2d",
           "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Flatten",
           "Dropout", "BatchNorm2d", "LeNet5", "init", "utils", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "ModuleList", "ModuleDict", "Identity",
           "Softmax", "LogSoftmax", "Dropout2d", "AdaptiveAvgPool2d"]


__getattr__ = missing_attribute("tinygrad_cnn.nn", "torch.nn")
