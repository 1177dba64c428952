"""zoo-pix2pixhd: pix2pixHD of Wang et al. (2018), as NVIDIA/pix2pixHD builds and trains it.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("pix2pixhd", netG="local", label_nc=0, input_nc=1, no_instance=True, ngf=8, image_size=64)
    >>> model.translate(torch.rand(1, 1, 100, 100)).shape
    torch.Size([1, 3, 100, 100])
"""
