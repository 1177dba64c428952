"""Dataset implementations; each is registered by ``zoo_core/builtin/datasets.py`` through the public hook.

- ``mnist5k``, ``digits``, ``photos``, ``faces``: real data shipped inside installed packages, with
  fixed, documented splits (``offline.py``, ``mnist5k.py``).
- ``imagefolder``, ``aligned``, ``unpaired``, ``captions``: the papers' folder formats for users'
  own data (``folders.py``), with the papers' resize / crop / flip (``transforms.py``).
- ``torchvision-*``: torchvision's data sets, imported lazily (``torchvision_adapters.py``).
"""
