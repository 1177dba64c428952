"""zoo's conformance kit (zoo_core.testing) on the pix2pixhd architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-pix2pixhd`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step, the registry entries and their cards.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("pix2pixhd")
