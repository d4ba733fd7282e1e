// MedTensor
