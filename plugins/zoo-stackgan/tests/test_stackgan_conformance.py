"""zoo's conformance kit (zoo_core.testing) on both architectures of zoo-stackgan, one test per check.

The same checks as `zoo plugin check zoo-stackgan`: config round trip, meta build, the task verbs, eval mode,
determinism, save -> load, a training step, the registry entries and their cards.
"""

from zoo_core.testing import conformance_tests

test_stackgan_conformance = conformance_tests("stackgan")
test_text_encoder_conformance = conformance_tests("stackgan-text")
