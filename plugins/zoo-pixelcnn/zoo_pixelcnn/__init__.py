"""zoo-pixelcnn: the masked PixelCNN of "Pixel Recurrent Neural Networks" (van den Oord et al. 2016).

The model lives in ``zoo_pixelcnn.model`` (imported with torch); ``plugin`` holds the zoo hooks.
"""

__all__: list[str] = []
