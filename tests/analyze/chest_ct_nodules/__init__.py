"""Tests of the lung nodule detection."""
