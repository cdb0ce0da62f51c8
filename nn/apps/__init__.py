"""Applications on top of the nn library: ``autograd-lite demo``, ``autograd-lite mnist``, their pictures.

``nn.apps.common`` holds what those commands and the scripts in ``examples/`` share. Dependencies
point one way: these modules import the library (``nn``, ``autograd_lite``); nothing in the
library imports from here (tests/nn/test_layout.py checks it).
"""
