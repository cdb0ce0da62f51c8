"""Convolution and pooling over images (NCHW): the ops nn's Conv2d and pooling layers are built on."""

from __future__ import annotations
