import MedMNIST
import Testing

/// `import MedMNIST` alone reaches every layer of the library, as an application uses it.
@Suite struct UmbrellaImportTests {
    @Test func oneImportReachesEveryModule() throws {
        let info = try MedMNISTCatalog.info("breastmnist")                            // MedMNISTData
        let model = try ModelRegistry.create("resnet18", numClasses: info.labels.count,  // MedModels
                                             initialization: .layerDefaults)
        let transform = try ImageTransform.forModel("resnet18", resolution: .native)   // MedTraining
        let schedule = CosineSchedule(baseLearningRate: 1e-4, cycleLength: 100)        // MedLayers
        let input = Tensor.zeros([1, 3, 28, 28])                                       // MedTensor
        model.eval()
        #expect(model(input).shape == [1, 2] && transform.rgb && schedule.learningRateForPaperEpoch(1) == 1e-4)
    }
}
