"""zoo-anogan: AnoGAN (Schlegl et al. 2017) and the f-AnoGAN encoder (Schlegl et al. 2019); task ``anomaly-detection``.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("anogan", image_size=32, ngf=16, ndf=16, nef=16)
    >>> model.score(torch.rand(4, 1, 32, 32)).shape  # f-AnoGAN's one-pass score: higher = more anomalous
    torch.Size([4])
"""
