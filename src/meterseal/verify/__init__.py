"""Judging runs: the oracle and invariants I1–I6, the verification matrix, reports and plots.

Reads records only by decoding the meter's NVM image."""
