"""Detectors: pure functions of text to findings, each versioned. No framework, no I/O."""
