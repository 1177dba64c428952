"""zoo's conformance kit (zoo_core.testing) on the nade architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-nade`: config round trip, meta build, the task verbs (binary pixels:
pixel_levels 2, grey input refused), eval mode, determinism, save -> load, a training step, the registry entries.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("nade")
