"""zoo's conformance kit (zoo_core.testing) on the progan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-progan`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step (half-way through fading 8x8 in, where every parameter takes part),
the registry entries (the two upstream CelebA-HQ entries build from their configs).
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("progan")
