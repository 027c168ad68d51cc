"""Borderwatch: an early-warning picture of military activity near borders, from open news."""

__version__ = "0.1.0"
