"""Trainer for the RED-CNN checkpoints the viewer compares (MSE and WGAN-GP).

Reuses ``ldct_viewer.io``, ``ldct_viewer.ct`` and ``ldct_viewer.model``; the viewer never imports it.
"""
