"""zoo-vae: the VAE of Kingma & Welling (2013), as pytorch/examples ``vae/main.py`` builds it."""
