"""zoo's conformance kit (zoo_core.testing) on the anogan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check anogan`: config round trip, meta build, the verbs of both tasks (the plugin task
anomaly-detection through its conformance calls: score with the encoder and a 3-step latent search), eval mode,
determinism, save -> load, a training step (an encoder step: gan_steps 0), the registry entries.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("anogan")
