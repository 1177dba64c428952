"""zoo-pix2pix: pix2pix of Isola et al. (2017), as junyanz/pytorch-CycleGAN-and-pix2pix builds and trains it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("pix2pix", netG="unet_128", image_size=128, ngf=8, ndf=8)
    >>> model.translate(torch.rand(1, 3, 100, 100)).shape
    torch.Size([1, 3, 100, 100])
"""
