"""A local PagerDuty REST API v2 emulator (HTTPS), an independent witness for the operator.

`oncall-testbed emulator` runs it from the command line; `EmulatorServer` runs it in-process.
"""

from oncall_testbed.emulator.server import EmulatorServer

__all__ = ["EmulatorServer"]
