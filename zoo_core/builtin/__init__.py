"""zoo_core's own plugins: they use exactly the hooks a third-party plugin has."""
