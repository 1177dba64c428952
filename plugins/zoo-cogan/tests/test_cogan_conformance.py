"""zoo's conformance kit (zoo_core.testing) on the cogan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-cogan`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step on random unpaired batches, the registry entries.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("cogan")
