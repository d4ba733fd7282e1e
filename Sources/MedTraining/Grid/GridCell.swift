import Foundation
import MedMNISTData

/// One run of the paper's grid: a set at a size, a model, a scheme and a seed. Its result lives at
/// `results/<dataset>/<size>/<model>/<scheme>-s<seed>.json` (``resultPath``).
public struct GridCell: Sendable, Codable, Hashable, CustomStringConvertible {
    public var dataset: String
    public var size: Int
    /// Registry name, optionally with a pretrained tag (`resnet18`, `vit_base_patch16_224.augreg_in21k`).
    public var model: String
    public var scheme: ExperimentScheme
    /// The run's seed (the paper's: 9930641, 115149041, 252139603); kNN is deterministic and runs once, with
    /// the first seed of the selection.
    public var seed: Int

    public init(dataset: String, size: Int, model: String, scheme: ExperimentScheme, seed: Int) {
        self.dataset = dataset
        self.size = size
        self.model = model
        self.scheme = scheme
        self.seed = seed
    }

    /// `<dataset>/<size>/<model>/<scheme>-s<seed>`, the cell's place under a results folder.
    public var stem: String { "\(dataset)/\(size)/\(model)/\(scheme.rawValue)-s\(seed)" }
    /// The result file, relative to the results folder.
    public var resultPath: String { stem + ".json" }
    /// The error record of a failed attempt, relative to the results folder.
    public var errorPath: String { stem + ".error.json" }
    /// The lock file held while a worker runs the cell.
    public var lockPath: String { stem + ".lock" }

    public var description: String { "\(dataset) \(size) px \(model) \(scheme.rawValue) seed \(seed)" }
}

/// Which cells a grid holds: the product of its selections, in a fixed order (dataset, size, model, scheme,
/// seed), so that every worker numbers the cells alike and a shard is a fixed set of them.
public struct GridSelection: Sendable, Codable, Equatable {
    public var datasets: [String]
    public var sizes: [Int]
    public var models: [String]
    public var schemes: [ExperimentScheme]
    public var seeds: [Int]

    /// The paper's grid (MEDMNIST.md §1.1): the 12 2D sets, 4 sizes, 10 encoders, end-to-end and linear probing
    /// with the paper's three seeds, and kNN once: 12 × 4 × 10 × (2 × 3 + 1) = 3,360 cells.
    public static let paper = GridSelection(
        datasets: MedMNISTCatalog.all.filter { $0.dimensions == .two }.map(\.flag),
        sizes: [28, 64, 128, 224],
        models: paperModels,
        schemes: [.endToEnd, .linearProbe, .knn],
        seeds: paperSeeds)

    /// The seeds of the paper's code (config.yaml).
    public static let paperSeeds = [9_930_641, 115_149_041, 252_139_603]

    /// The paper's ten encoders under their timm names (with the pretrained tags its code loads).
    public static let paperModels = [
        "vgg16", "alexnet", "resnet18", "densenet121", "efficientnet_b4", "vit_base_patch16_224",
        "vit_base_patch16_clip_224", "eva02_base_patch16_clip_224", "vit_base_patch16_224.dino", "samvit_base_patch16",
    ]

    public init(datasets: [String], sizes: [Int], models: [String], schemes: [ExperimentScheme], seeds: [Int]) {
        self.datasets = datasets
        self.sizes = sizes
        self.models = models
        self.schemes = schemes
        self.seeds = seeds
    }

    /// Every cell, in the grid's fixed order; kNN cells only for the first seed (it is deterministic).
    public var cells: [GridCell] {
        var cells: [GridCell] = []
        for dataset in datasets {
            for size in sizes {
                for model in models {
                    for scheme in schemes {
                        for seed in scheme == .knn ? Array(seeds.prefix(1)) : seeds {
                            cells.append(GridCell(dataset: dataset, size: size, model: model, scheme: scheme, seed: seed))
                        }
                    }
                }
            }
        }
        return cells
    }
}
