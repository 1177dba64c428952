"""zoo's conformance kit (zoo_core.testing) on the infogan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check zoo-infogan`: config round trip, meta build, the verbs of both tasks
(sample; classify and features), eval mode, determinism, save -> load, a training step (gradients reach
every parameter of G, D and Q), the registry entries.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("infogan")
