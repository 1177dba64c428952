"""zoo-discogan: DiscoGAN (Kim et al. 2017) as SKTBrain/DiscoGAN builds and trains it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("discogan", input_nc=1, output_nc=1, image_size=32, ngf=8, ndf=8)
    >>> model.translate(torch.rand(2, 1, 28, 28), direction="BtoA").shape
    torch.Size([2, 1, 28, 28])
"""
