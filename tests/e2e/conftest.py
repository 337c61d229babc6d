"""The end-to-end tests' bot processes (tests/e2e/processes.py) as a fixture."""

from tests.e2e.processes import rig  # noqa: F401 - a fixture for every test here
