"""Weights of injection phrase patterns (see :mod:`.injection_rules` for what they mean)."""

from __future__ import annotations

S, M, W = 0.9, 0.6, 0.3
#: Weight of a cue that only tells the detector where to look (payload splitting).
CUE = 0.1
