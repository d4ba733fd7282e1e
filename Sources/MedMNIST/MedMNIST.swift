// The umbrella module for applications: `import MedMNIST` brings in the whole library — files and formats
// (MedIO), tensors and autograd (MedTensor), layers, losses and optimizers (MedLayers), the encoders (MedModels), the datasets and evaluator
// (MedMNISTData) and the training schemes (MedTraining). Libraries that build on one layer should import that
// module alone instead, to keep their dependencies small.
@_exported import MedIO
@_exported import MedLayers
@_exported import MedMNISTData
@_exported import MedModels
@_exported import MedTensor
@_exported import MedTraining
