"""Shared pytest configuration: fixtures live in tests/fixtures/, one module per thing they provide."""

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.controlplane",
    "tests.fixtures.gotools",
]
