// Package layers implements govgg's network layers with forward and backward passes:
// Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten, Linear, Dropout,
// Softmax and Sequential, and the losses. Parameter names follow torchvision's
// state-dict keys so that a torchvision checkpoint loads by name.
package layers
