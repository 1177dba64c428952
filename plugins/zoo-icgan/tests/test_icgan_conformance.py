"""zoo's conformance kit (zoo_core.testing) on the icgan architecture, one test per check, on its tiny test_config.

The same checks as `zoo plugin check icgan`: config round trip, meta build, the verbs of its three tasks (the
core's unconditional, and class-conditional and image-editing through their conformance calls), eval mode,
determinism, save -> load, a training step (the GAN phase), the registry entries.
"""

from zoo_core.testing import conformance_tests

test_conformance = conformance_tests("icgan")
