"""zoo-cyclegan: CycleGAN (Zhu et al. 2017) as junyanz/pytorch-CycleGAN-and-pix2pix builds and trains it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("cyclegan", input_nc=1, output_nc=1, image_size=28, ngf=8, ndf=8)
    >>> model.translate(torch.rand(2, 1, 28, 28), direction="BtoA").shape
    torch.Size([2, 1, 28, 28])
"""
