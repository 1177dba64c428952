"""zoo's conformance kit (zoo_core.testing) on the discogan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-discogan`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step, the registry entries and their cards.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("discogan")
