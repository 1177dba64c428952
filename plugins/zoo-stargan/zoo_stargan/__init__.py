"""zoo-stargan: StarGAN (Choi et al. 2018) as yunjey/stargan builds and trains it, for zoo.

Example:
    >>> import zoo_core as zoo
    >>> model = zoo.create("stargan", image_size=32, channels=1, c_dim=3, attributes=["thick", "right_slant", "wide"],
    ...                    exclusive=[], g_conv_dim=8, d_conv_dim=8, g_repeat_num=2, d_repeat_num=5)
    >>> model.translate(torch.rand(2, 1, 32, 32), attributes={"thick": 1}).shape
    torch.Size([2, 1, 32, 32])
"""
