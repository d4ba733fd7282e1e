import Foundation
@testable import MedTraining
import Testing

/// Spot checks of the transcribed published numbers against MEDMNIST.md's text (quoted here), and the
/// transcription's own cross-check: the kNN averages are the means of the per-dataset kNN numbers.
@Suite struct PaperResultsTests {
    @Test func averagesMatchTheDocument() throws {
        // §1.7 END-TO-END "| VGG16 | 82.34±0.88 | 85.33±1.16 | 86.64±0.82 | 86.70±0.93 | 92.66±0.41 | … | 95.30±0.22 |"
        #expect(PaperResults.average(scheme: .endToEnd, model: "vgg16", size: 28)
            == PaperResults.Number(acc: 82.34, accStd: 0.88, auc: 92.66, aucStd: 0.41))
        #expect(PaperResults.average(scheme: .endToEnd, model: "vgg16", size: 224)?.auc == 95.30)
        // "| DenseNet-121 | 80.32±0.93 | 84.62±0.80 | 87.13±0.56 | …": best overall ACC 87.13 (DenseNet-121 E2E @128).
        #expect(PaperResults.average(scheme: .endToEnd, model: "densenet121", size: 128)?.acc == 87.13)
        // "| EVA-02 ViT-B/16 | 76.69±1.44 | 80.77±0.97 | 82.76±0.97 | 84.72±1.09 | 88.91±1.01 | 90.53±0.54 | 91.59±0.75 | 92.60±0.94 |"
        #expect(PaperResults.average(scheme: .endToEnd, model: "eva02_base_patch16_clip_224", size: 128)
            == PaperResults.Number(acc: 82.76, accStd: 0.97, auc: 91.59, aucStd: 0.75))
        // LINEAR PROBING "| SAM ViT-B/16 | 43.69±0.01 | 48.10±0.03 | 54.14±0.04 | 61.20±0.03 | 66.51±1.38 | 74.68±0.80 | 80.46±0.13 | 81.75±0.11 |"
        #expect(PaperResults.average(scheme: .linearProbe, model: "samvit_base_patch16", size: 64)
            == PaperResults.Number(acc: 48.10, accStd: 0.03, auc: 74.68, aucStd: 0.80))
        // "| DINO ViT-B/16 | 78.23±0.22 | 82.74±0.36 | 84.46±0.24 | 85.11±0.55 | 90.94±0.14 | …"
        #expect(PaperResults.average(scheme: .linearProbe, model: "vit_base_patch16_224.dino", size: 224)?.accStd == 0.55)
        // k-NN "| DINO ViT-B/16 | 73.61 | 79.41 | 81.17 | 81.90 |", "| EfficientNet-B4 | 68.15 | 72.45 | 73.91 | 74.17 |"
        #expect(PaperResults.average(scheme: .knn, model: "vit_base_patch16_224.dino", size: 224) == PaperResults.Number(acc: 81.90))
        #expect(PaperResults.average(scheme: .knn, model: "efficientnet_b4", size: 64)?.acc == 72.45)
        #expect(PaperResults.average(scheme: .knn, model: "efficientnet_b4", size: 64)?.auc == nil)
        // Not in the paper.
        #expect(PaperResults.average(scheme: .cachedLinearProbe, model: "vgg16", size: 28) == nil)
        #expect(PaperResults.average(scheme: .endToEnd, model: "vgg16", size: 32) == nil)
        #expect(PaperResults.average(scheme: .endToEnd, model: "resnet18.a1_in1k", size: 28) == nil)
        for scheme in [ExperimentScheme.endToEnd, .linearProbe, .knn] {
            for model in GridSelection.paperModels {
                for size in PaperResults.sizes { #expect(PaperResults.average(scheme: scheme, model: model, size: size) != nil) }
            }
        }
    }

    @Test func perDatasetMatchesTheDocument() {
        // §1.8 "| VGG16 | 71.76/75.97/79.22/81.38 | 74.36/80.77/80.77/79.49 | …" (blood, breast)
        #expect(PaperResults.perDataset(scheme: .knn, model: "vgg16", size: 28, dataset: "bloodmnist")?.acc == 71.76)
        #expect(PaperResults.perDataset(scheme: .knn, model: "vgg16", size: 224, dataset: "breastmnist")?.acc == 79.49)
        // "| SAM ViT-B/16 | … | 48.00/49.67/49.64/46.97 |" (tissue); "| DINO ViT-B/16 | … | 80.54/90.39/93.72/94.32 |" (path)
        #expect(PaperResults.perDataset(scheme: .knn, model: "samvit_base_patch16", size: 224, dataset: "tissuemnist")?.acc == 46.97)
        #expect(PaperResults.perDataset(scheme: .knn, model: "vit_base_patch16_224.dino", size: 128, dataset: "pathmnist")?.acc == 93.72)
        // "| EVA-02 | … | 46.00/51.20/55.50/58.90 |" (oct)
        #expect(PaperResults.perDataset(scheme: .knn, model: "eva02_base_patch16_clip_224", size: 64, dataset: "octmnist")?.acc == 51.20)
        // §1.9 "| retina | 54.17±0.77, 55.75±4.48, 62.00±1.02, 64.17±2.42 | 75.35±0.98, 80.63±0.68, 85.26±0.60, 87.82±0.71 |"
        #expect(PaperResults.perDataset(scheme: .endToEnd, model: "vgg16", size: 64, dataset: "retinamnist")
            == PaperResults.Number(acc: 55.75, accStd: 4.48, auc: 80.63, aucStd: 0.68))
        // "| chest | 94.79±0.02, 94.82±0.01, 94.79±0.06, 94.83±0.01 | 76.16±0.31, 78.59±0.11, 80.07±0.26, 80.92±0.11 |"
        #expect(PaperResults.perDataset(scheme: .endToEnd, model: "vgg16", size: 224, dataset: "chestmnist")
            == PaperResults.Number(acc: 94.83, accStd: 0.01, auc: 80.92, aucStd: 0.11))
        #expect(PaperResults.perDataset(scheme: .endToEnd, model: "alexnet", size: 28, dataset: "bloodmnist") == nil)
        #expect(PaperResults.perDataset(scheme: .linearProbe, model: "vgg16", size: 28, dataset: "bloodmnist") == nil)
    }

    @Test func knnAveragesAreTheMeansOfThePerDatasetNumbers() {
        let datasets = GridSelection.paper.datasets
        for model in GridSelection.paperModels {
            for size in PaperResults.sizes {
                let values = datasets.compactMap { PaperResults.perDataset(scheme: .knn, model: model, size: size, dataset: $0)?.acc }
                #expect(values.count == 12, "\(model) \(size)")
                let mean = values.reduce(0, +) / 12
                let published = PaperResults.average(scheme: .knn, model: model, size: size)!.acc
                #expect(abs(mean - published) <= 0.0051, "\(model) \(size): \(mean) vs \(published)")
            }
        }
    }

    @Test func vgg16EndToEndAverageIsTheMeanOfItsDatasets() {
        // §1.6: the average is the mean of the 12 means, its "±" the mean of the 12 stds.
        let datasets = GridSelection.paper.datasets
        for size in PaperResults.sizes {
            let cells = datasets.compactMap { PaperResults.perDataset(scheme: .endToEnd, model: "vgg16", size: size, dataset: $0) }
            #expect(cells.count == 12)
            let published = PaperResults.average(scheme: .endToEnd, model: "vgg16", size: size)!
            #expect(abs(cells.map(\.acc).reduce(0, +) / 12 - published.acc) <= 0.0051, "\(size)")
            #expect(abs(cells.map { $0.auc! }.reduce(0, +) / 12 - published.auc!) <= 0.0051, "\(size)")
            #expect(abs(cells.map { $0.accStd! }.reduce(0, +) / 12 - published.accStd!) <= 0.0051, "\(size)")
        }
    }
}
