"""Comparison and reproduction code behind ``dmc demo`` and ``dmc compare``.

Not part of the library's core namespace: experiments fit models through the
public entry points, and plots draw their results.
"""
