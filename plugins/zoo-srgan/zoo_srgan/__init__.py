"""zoo-srgan: SRResNet and SRGAN (Ledig et al. 2017) as Lornatang/SRGAN-PyTorch builds them.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("srgan", upscale_factor=4)
    >>> model.eval().translate(torch.rand(1, 3, 24, 24)).shape
    torch.Size([1, 3, 96, 96])
"""
