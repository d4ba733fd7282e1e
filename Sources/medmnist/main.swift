print("medmnist")
