"""zoo-gated-pixelcnn: the Gated PixelCNN of "Conditional Image Generation with PixelCNN Decoders" (2016).

The model lives in ``zoo_gated_pixelcnn.model`` (imported with torch); ``plugin`` holds the zoo hooks.
"""

__all__: list[str] = []
