"""Offline image operations: pure functions on numpy images, one module per family.

Arrays are uint8 H×W×3 RGB (or H×W×4 RGBA) unless a function says otherwise; masks are bool or
uint8 H×W where white / True marks the region to act on (seed 001's convention).
"""
