"""zoo-pixelrnn: the PixelRNN of "Pixel Recurrent Neural Networks" (van den Oord et al. 2016), Row LSTM and
Diagonal BiLSTM.

The model lives in ``zoo_pixelrnn.model`` (imported with torch); ``plugin`` holds the zoo hooks.
"""

__all__: list[str] = []
