// Package vgg builds the VGG networks of Simonyan & Zisserman ("Very Deep Convolutional
// Networks for Large-Scale Image Recognition", arXiv 1409.1556): configurations A, B, D
// and E (VGG-11, 13, 16 and 19), with or without batch normalization, in torchvision's
// flavour (conv bias, AdaptiveAvgPool2d 7×7 before the classifier, any input ≥ 32×32)
// or MindCV's (no conv bias, plain flatten, 224×224 input).
//
// Parameter names are torchvision's state-dict keys (features.0.weight,
// features.1.running_mean, classifier.6.bias), so torchvision weights load by name and
// MindCV names map onto them. Predict applies torchvision's evaluation preprocessing
// and returns the top-k ImageNet classes.
package vgg
